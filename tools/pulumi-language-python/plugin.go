package main

// RunPlugin: how the engine starts a Python policy pack.
//
// For `pulumi preview --policy-pack DIR` the engine reads DIR/PulumiPolicy.yaml, finds
// `runtime: python`, asks this host (the "python" language plugin) for RunPlugin with
// kind "analyzer", the pack directory as the program and its own address as the only
// plugin argument (after any --logtostderr / -v=N / --tracing flags). The pack is a
// Python program whose `PolicyPack(...)` call starts an Analyzer gRPC server and prints
// its port as the first line of stdout; the engine reads that line from the stdout we
// stream back, dials the port, and ends the stream's context when it is done with the
// pack.
//
// The Python SDK ships the runner for exactly this: `python -m pulumi.policy
// <engine address> <program>` (argparse ignores the logging flags it does not know),
// which runs the pack's __main__.py. We start it with the pack's own `runtime.options`
// (virtualenv, toolchain) resolved against the pack directory, unbuffered so that the
// port line is not held in a buffer, in the environment the engine hands us.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

// analyzerKind is apitype.AnalyzerPlugin; the engine sends it as a plain string.
const analyzerKind = "analyzer"

// policyRunnerModule is the Python SDK's policy pack runner (pulumi/policy/__main__.py).
const policyRunnerModule = "pulumi.policy"

// pluginStopGrace is how long a plugin gets after SIGINT before it is killed.
const pluginStopGrace = 5 * time.Second

// streamWriter sends what a plugin writes as RunPlugin responses. Both of a plugin's
// streams share one mutex: a gRPC server stream must not be written concurrently.
type streamWriter struct {
	mu     *sync.Mutex
	server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse]
	stderr bool
}

func (w streamWriter) Write(p []byte) (int, error) {
	chunk := append([]byte(nil), p...)
	resp := &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: chunk}}
	if w.stderr {
		resp = &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: chunk}}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.server.Context().Err() != nil {
		// The engine hung up: drop the output but keep draining the pipe, so the
		// plugin is never blocked on a full pipe while it is being stopped.
		return len(p), nil
	}
	if err := w.server.Send(resp); err != nil {
		return len(p), nil //nolint:nilerr // same: nobody is left to read it
	}
	return len(p), nil
}

// policyPackArgs is the runner's command line: python -u -m pulumi.policy ARGS... PROGRAM.
func policyPackArgs(req *pulumirpc.RunPluginRequest) []string {
	program := req.GetInfo().GetProgramDirectory()
	if entry := req.GetInfo().GetEntryPoint(); entry != "" && entry != "." {
		program = filepath.Join(program, entry)
	}
	args := []string{"-u", "-m", policyRunnerModule}
	args = append(args, req.GetArgs()...)
	return append(args, program)
}

// pluginEnv is the engine's environment for the plugin (the request's, else ours) with
// the pack's virtualenv activated and Python's output unbuffered.
func pluginEnv(ctx context.Context, req *pulumirpc.RunPluginRequest, tc toolchain.Toolchain) ([]string, error) {
	env := req.GetEnv()
	if len(env) == 0 {
		env = os.Environ()
	}
	venv, err := tc.VirtualEnvPath(ctx)
	if err != nil {
		return nil, err
	}
	if venv != "" {
		env = toolchain.ActivateVirtualEnv(env, venv)
	}
	return append(env, "PYTHONUNBUFFERED=1"), nil
}

func (h *host) RunPlugin(
	req *pulumirpc.RunPluginRequest, server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse],
) error {
	if req.GetKind() != analyzerKind {
		return status.Errorf(codes.Unimplemented,
			"this language host runs Python policy packs (kind %q) only, not %q plugins", analyzerKind, req.GetKind())
	}
	if req.GetAttachDebugger() {
		return status.Error(codes.Unimplemented, "debugging is not supported by this language host")
	}
	if req.GetInfo().GetProgramDirectory() == "" {
		return status.Error(codes.InvalidArgument, "RunPlugin needs the policy pack directory in info.program_directory")
	}
	ctx := server.Context()
	opts, err := pythonOptions(req.GetInfo())
	if err != nil {
		return err
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return fmt.Errorf("policy pack %s: %w", req.GetInfo().GetProgramDirectory(), err)
	}
	env, err := pluginEnv(ctx, req, tc)
	if err != nil {
		return err
	}
	// The stream's context ends when the engine closes the plugin: stop the pack then.
	cmd, err := tc.Command(ctx, policyPackArgs(req)...)
	if err != nil {
		return err
	}
	cmd.Env = env
	cmd.Dir = req.GetPwd()
	cmd.Cancel = func() error {
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			return cmd.Process.Kill()
		}
		return nil
	}
	cmd.WaitDelay = pluginStopGrace
	var mu sync.Mutex
	cmd.Stdout = streamWriter{mu: &mu, server: server}
	cmd.Stderr = streamWriter{mu: &mu, server: server, stderr: true}

	runErr := cmd.Run()
	code := 0
	if runErr != nil {
		var exitErr *exec.ExitError
		if !errors.As(runErr, &exitErr) {
			return fmt.Errorf("could not run the policy pack %s: %w", req.GetInfo().GetProgramDirectory(), runErr)
		}
		code = exitErr.ExitCode()
	}
	if ctx.Err() != nil {
		// The engine hung up; nobody is left to read an exit code.
		return nil
	}
	mu.Lock()
	defer mu.Unlock()
	return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)}})
}

// Command pulumi-language-python is plexica-infra's own, minimal Pulumi
// language host for Python programs.
//
// Why it exists: the upstream host lives in its own Go module
// (github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3) and the
// Go module proxy we can reach does not serve any version of it. This file is
// written by us; it reuses only public packages of the served sdk/v3 module:
// the gRPC definitions (proto/go), rpcutil and the Python toolchain helpers
// (python/toolchain, which resolves `runtime.options.toolchain/virtualenv`).
//
// What it does: it serves the LanguageRuntime gRPC service and runs the
// program with `python pulumi-language-python-exec ...`; that exec script
// ships in the sdk/v3 module and is copied next to this binary by
// tools/build.sh. It reports no required plugins: providers are taken from
// PATH (ambient plugins), which is how this repository runs offline. It does
// not implement code generation, packing, linking, debugging, typecheckers or
// Python-based plugins; those calls answer "unimplemented".
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

// execScriptName is the Python entry point the host runs; it must sit in the
// directory of this executable (after resolving symlinks).
const execScriptName = "pulumi-language-python-exec"

// exitAfterUserMessage is the exit code the Python SDK uses after it has
// already shown the user an actionable error; the engine should not add more.
const exitAfterUserMessage = 32

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "pulumi-language-python: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	showVersion := flag.Bool("version", false, "print the version and exit")
	useExecutor := flag.String("use-executor", "", "path of the exec script to use instead of the one beside this binary")
	tracing := flag.String("tracing", "", "tracing endpoint, passed on to the program")
	flag.Parse()

	if *showVersion {
		fmt.Println(version.Version)
		return
	}

	execScript := *useExecutor
	if execScript == "" {
		self, err := os.Executable()
		if err != nil {
			fail("cannot locate own executable: %v", err)
		}
		if resolved, err := filepath.EvalSymlinks(self); err == nil {
			self = resolved
		}
		execScript = filepath.Join(filepath.Dir(self), execScriptName)
	}
	if _, err := os.Stat(execScript); err != nil {
		fail("missing executor %s: %v (tools/build.sh installs it next to this binary)", execScript, err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cancelServe := make(chan bool)
	go func() {
		<-ctx.Done()
		close(cancelServe)
	}()

	h := newHost(execScript, *tracing)
	if args := flag.Args(); len(args) > 0 && args[0] != "" {
		if err := h.attachEngine(args[0]); err != nil {
			fail("%v", err)
		}
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancelServe,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
	})
	if err != nil {
		fail("cannot start the gRPC server: %v", err)
	}
	// The engine reads the port from our first line of output.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fail("gRPC server stopped: %v", err)
	}
}

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	execScript    string
	tracing       string
	engineAddress string

	cancelCtx context.Context
	cancel    context.CancelFunc

	// Where the program's output goes: the engine reads this process's streams.
	stdout io.Writer
	stderr io.Writer
}

func newHost(execScript, tracing string) *host {
	ctx, cancel := context.WithCancel(context.Background())
	return &host{execScript: execScript, tracing: tracing, cancelCtx: ctx, cancel: cancel,
		stdout: os.Stdout, stderr: os.Stderr}
}

// attachEngine records the engine's address and exits this process when the
// engine goes away, so no host outlives its `pulumi` command.
func (h *host) attachEngine(addr string) error {
	h.engineAddress = addr
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-ctx.Done()
		os.Exit(0)
	}()
	if err := rpcutil.Healthcheck(ctx, addr, 5*time.Minute, cancel); err != nil {
		return fmt.Errorf("cannot watch the engine at %s: %w", addr, err)
	}
	return nil
}

func (h *host) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	if err := h.attachEngine(req.GetEngineAddress()); err != nil {
		return nil, err
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// GetRequiredPlugins and GetRequiredPackages report nothing: the providers
// come from PATH, and automatic plugin downloads are switched off anyway.
func (h *host) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

// pythonOptions turns the project's `runtime.options` into toolchain options.
func pythonOptions(info *pulumirpc.ProgramInfo) (toolchain.PythonOptions, error) {
	opts := toolchain.PythonOptions{Toolchain: toolchain.Pip}
	if info == nil {
		return opts, nil
	}
	opts.Root = info.GetRootDirectory()
	opts.ProgramDir = info.GetProgramDirectory()
	raw := map[string]any{}
	if info.GetOptions() != nil {
		raw = info.GetOptions().AsMap()
	}
	for key, value := range raw {
		text, ok := value.(string)
		if !ok {
			return opts, fmt.Errorf("runtime option %q must be a string", key)
		}
		switch key {
		case "virtualenv":
			opts.Virtualenv = text
		case "toolchain":
			switch text {
			case "pip":
				opts.Toolchain = toolchain.Pip
			case "uv":
				opts.Toolchain = toolchain.Uv
			case "poetry":
				opts.Toolchain = toolchain.Poetry
			default:
				return opts, fmt.Errorf("unknown runtime toolchain %q", text)
			}
		case "typechecker":
			if text != "" {
				return opts, fmt.Errorf("runtime option typechecker=%q is not supported by this language host", text)
			}
		}
	}
	return opts, nil
}

// execArgs builds the exec script's command line.
func (h *host) execArgs(req *pulumirpc.RunRequest) []string {
	args := []string{h.execScript}
	add := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engineAddress)
	add("project", req.GetProject())
	add("root_directory", req.GetInfo().GetRootDirectory())
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	add("dry_run", strconv.FormatBool(req.GetDryRun()))
	add("parallel", strconv.Itoa(int(req.GetParallel())))
	add("tracing", h.tracing)
	add("organization", req.GetOrganization())
	entry := req.GetInfo().GetEntryPoint()
	if entry == "" {
		entry = "."
	}
	args = append(args, entry)
	return append(args, req.GetArgs()...)
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	if req.GetAttachDebugger() {
		return &pulumirpc.RunResponse{Error: "debugging is not supported by this language host"}, nil
	}
	opts, err := pythonOptions(req.GetInfo())
	if err != nil {
		return nil, err
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, err
	}

	runCtx, runCancel := context.WithCancel(h.cancelCtx)
	defer runCancel()
	context.AfterFunc(ctx, runCancel)
	cmd, err := tc.Command(runCtx, h.execArgs(req)...)
	if err != nil {
		return nil, err
	}
	// A run the engine gave up on (a failed preview, a cancelled update) is stopped with
	// SIGTERM: Python's default action ends the program quietly, where SIGINT would print a
	// KeyboardInterrupt traceback into the engine's diagnostics after its own verdict.
	cmd.Cancel = func() error {
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			return cmd.Process.Kill()
		}
		return nil
	}
	cmd.WaitDelay = 5 * time.Second
	cmd.Stdout = h.stdout
	cmd.Stderr = h.stderr

	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	configMap := req.GetConfig()
	if configMap == nil {
		configMap = map[string]string{}
	}
	config, err := json.Marshal(configMap)
	if err != nil {
		return nil, fmt.Errorf("cannot encode config: %w", err)
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretKeysJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, fmt.Errorf("cannot encode config secret keys: %w", err)
	}
	env = append(env, "PULUMI_CONFIG="+string(config), "PULUMI_CONFIG_SECRET_KEYS="+string(secretKeysJSON))
	cmd.Env = env

	if err := cmd.Run(); err != nil {
		syncWriter(h.stdout)
		syncWriter(h.stderr)
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run the Python program: %v", err)}, nil
		}
		if status, ok := exitErr.Sys().(syscall.WaitStatus); ok && status.ExitStatus() == exitAfterUserMessage {
			return &pulumirpc.RunResponse{Bail: true}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("program exited with non-zero exit code: %d", exitErr.ExitCode())}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

func (h *host) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	if req.GetIsPlugin() {
		return errors.New("installing Python plugins is not supported by this language host")
	}
	opts, err := pythonOptions(req.GetInfo())
	if err != nil {
		return err
	}
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return err
	}
	if err := tc.InstallDependencies(server.Context(), req.GetInfo().GetProgramDirectory(),
		req.GetUseLanguageVersionTools(), true, stdout, stderr); err != nil {
		return err
	}
	return closer.Close()
}

func (h *host) RuntimeOptionsPrompts(
	context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

func (h *host) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	opts, err := pythonOptions(req.GetInfo())
	if err != nil {
		return nil, err
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	if opts.Toolchain == toolchain.Pip {
		// The CLI waits for About before every update and preview. The SDK's
		// pip toolchain runs three interpreters for it, one of them
		// `python -m pip --version`, which imports all of pip (seconds on a
		// busy machine); one interpreter reading pip's installed metadata
		// answers the same.
		if about, err := quickAbout(ctx, tc); err == nil {
			return about, nil
		}
	}
	info, err := tc.About(ctx)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{
		Executable: info.PythonExecutable,
		Version:    info.PythonVersion.String(),
		Metadata: map[string]string{
			"toolchain":        toolchain.Name(opts.Toolchain),
			"toolchainVersion": info.ToolchainVersion.String(),
			"languageHost":     "plexica-infra minimal host",
		},
	}, nil
}

// aboutScript prints the interpreter, its version and pip's version, one a line.
const aboutScript = `import sys
from importlib import metadata
try:
    pip = metadata.version("pip")
except metadata.PackageNotFoundError:
    pip = ""
print(sys.executable)
print("%d.%d.%d" % sys.version_info[:3])
print(pip)
`

// quickAbout answers About for the pip toolchain with a single interpreter run.
func quickAbout(ctx context.Context, tc toolchain.Toolchain) (*pulumirpc.AboutResponse, error) {
	cmd, err := tc.Command(ctx, "-c", aboutScript)
	if err != nil {
		return nil, err
	}
	out, err := cmd.Output()
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 2 {
		return nil, fmt.Errorf("unexpected interpreter answer %q", out)
	}
	pip := ""
	if len(lines) > 2 {
		pip = strings.TrimSpace(lines[2])
	}
	return &pulumirpc.AboutResponse{
		Executable: strings.TrimSpace(lines[0]),
		Version:    strings.TrimSpace(lines[1]),
		Metadata: map[string]string{
			"toolchain":        toolchain.Name(toolchain.Pip),
			"toolchainVersion": pip,
			"languageHost":     "plexica-infra minimal host",
		},
	}, nil
}

func (h *host) GetProgramDependencies(
	ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	opts, err := pythonOptions(req.GetInfo())
	if err != nil {
		return nil, err
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	pkgs, err := tc.ListPackages(ctx, req.GetTransitiveDependencies())
	if err != nil {
		return nil, fmt.Errorf("cannot list Python packages: %w", err)
	}
	deps := make([]*pulumirpc.DependencyInfo, 0, len(pkgs))
	for _, p := range pkgs {
		deps = append(deps, &pulumirpc.DependencyInfo{Name: p.Name, Version: p.Version})
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}

func (h *host) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.cancel()
	return &emptypb.Empty{}, nil
}

// syncWriter flushes a program stream that is a file (the process's own stdout/stderr).
func syncWriter(w io.Writer) {
	if f, ok := w.(*os.File); ok {
		_ = f.Sync()
	}
}

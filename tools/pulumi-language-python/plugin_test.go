package main

import (
	"context"
	"reflect"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// fakeRunPluginStream records what RunPlugin sends.
type fakeRunPluginStream struct {
	grpc.ServerStream
	ctx  context.Context
	sent []*pulumirpc.RunPluginResponse
}

func (f *fakeRunPluginStream) Context() context.Context { return f.ctx }

func (f *fakeRunPluginStream) Send(resp *pulumirpc.RunPluginResponse) error {
	f.sent = append(f.sent, resp)
	return nil
}

func TestPolicyPackArgsRunTheSDKRunnerOnThePackDirectory(t *testing.T) {
	req := &pulumirpc.RunPluginRequest{
		Args: []string{"-v=9", "127.0.0.1:4567"},
		Info: &pulumirpc.ProgramInfo{ProgramDirectory: "/repo/policy", EntryPoint: "."},
	}
	want := []string{"-u", "-m", "pulumi.policy", "-v=9", "127.0.0.1:4567", "/repo/policy"}
	if got := policyPackArgs(req); !reflect.DeepEqual(got, want) {
		t.Fatalf("policyPackArgs = %v, want %v", got, want)
	}
}

func TestRunPluginRefusesOtherPluginKinds(t *testing.T) {
	stream := &fakeRunPluginStream{ctx: context.Background()}
	err := newHost("exec", "").RunPlugin(&pulumirpc.RunPluginRequest{
		Kind: "resource",
		Info: &pulumirpc.ProgramInfo{ProgramDirectory: "/repo/provider"},
	}, stream)
	if status.Code(err) != codes.Unimplemented {
		t.Fatalf("RunPlugin(kind resource) = %v, want Unimplemented", err)
	}
	if len(stream.sent) != 0 {
		t.Fatalf("RunPlugin sent %d responses for a refused plugin", len(stream.sent))
	}
}

func TestRunPluginStreamsOutputAndExitCode(t *testing.T) {
	dir := t.TempDir()
	stream := &fakeRunPluginStream{ctx: context.Background()}
	// No virtualenv: the toolchain runs `python` from PATH; `-m pulumi.policy` fails there
	// (no SDK), which is exactly what the engine must see: stderr and a non-zero exit code.
	err := newHost("exec", "").RunPlugin(&pulumirpc.RunPluginRequest{
		Kind: analyzerKind,
		Pwd:  dir,
		Args: []string{"127.0.0.1:1"},
		Env:  []string{"PATH=/usr/bin:/bin", "PYTHONNOUSERSITE=1"},
		Info: &pulumirpc.ProgramInfo{ProgramDirectory: dir, RootDirectory: dir, EntryPoint: "."},
	}, stream)
	if err != nil {
		t.Fatalf("RunPlugin: %v (the test needs python3 on PATH)", err)
	}
	last := stream.sent[len(stream.sent)-1].GetOutput()
	exit, ok := last.(*pulumirpc.RunPluginResponse_Exitcode)
	if !ok || exit.Exitcode == 0 {
		t.Fatalf("last response = %#v, want a non-zero exit code", last)
	}
	var stderr []byte
	for _, resp := range stream.sent {
		if chunk, ok := resp.GetOutput().(*pulumirpc.RunPluginResponse_Stderr); ok {
			stderr = append(stderr, chunk.Stderr...)
		}
	}
	if len(stderr) == 0 {
		t.Fatal("the plugin's stderr was not streamed back")
	}
}

func TestStreamWriterDropsOutputOnceTheEngineHungUp(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	stream := &fakeRunPluginStream{ctx: ctx}
	var mu sync.Mutex
	w := streamWriter{mu: &mu, server: stream, stderr: true}
	if n, err := w.Write([]byte("before")); n != 6 || err != nil || len(stream.sent) != 1 {
		t.Fatalf("Write before hang-up = %d, %v; sent %d", n, err, len(stream.sent))
	}
	cancel()
	// Still "written": an error would stop exec's copy loop and leave the plugin blocked
	// on a full pipe while it is being stopped.
	if n, err := w.Write([]byte("Traceback ... KeyboardInterrupt")); n != 31 || err != nil {
		t.Fatalf("Write after hang-up = %d, %v; want 31, nil", n, err)
	}
	if len(stream.sent) != 1 {
		t.Fatalf("output after the hang-up was sent: %d responses", len(stream.sent))
	}
}

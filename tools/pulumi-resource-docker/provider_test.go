package main

import (
	"context"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

const networkURN = "urn:pulumi:dev::proj::docker:index/network:Network::net"

func mustMarshal(t *testing.T, m map[string]any) *pulumirpc.CheckRequest {
	t.Helper()
	s, err := marshal(resource.NewPropertyMapFromMap(m))
	if err != nil {
		t.Fatal(err)
	}
	return &pulumirpc.CheckRequest{Urn: networkURN, News: s, RandomSeed: []byte{1, 2, 3, 4, 5}}
}

func TestCheckAutonamesAndRejectsUnknownProperties(t *testing.T) {
	p := newProvider()
	resp, err := p.Check(context.Background(), mustMarshal(t, map[string]any{"driver": "bridge"}))
	if err != nil || len(resp.GetFailures()) != 0 {
		t.Fatalf("unexpected failure: %v %v", err, resp.GetFailures())
	}
	name := resp.GetInputs().GetFields()["name"].GetStringValue()
	if name != "net-0102030" {
		t.Fatalf("autoname = %q", name)
	}

	resp, err = p.Check(context.Background(), mustMarshal(t, map[string]any{"name": "n", "ingressMode": "x"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetFailures()) != 1 || resp.GetFailures()[0].GetProperty() != "ingressMode" {
		t.Fatalf("want one failure for ingressMode, got %v", resp.GetFailures())
	}
}

func TestCheckRejectsUnsupportedTypes(t *testing.T) {
	req := mustMarshal(t, map[string]any{})
	req.Urn = "urn:pulumi:dev::proj::docker:index/tag:Tag::t"
	if _, err := newProvider().Check(context.Background(), req); err == nil {
		t.Fatal("want an error for docker:index/tag:Tag")
	}
}

func TestDiffReplacesButUpdatesProviderSideSettings(t *testing.T) {
	p := newProvider()
	olds, _ := marshal(resource.NewPropertyMapFromMap(map[string]any{"name": "img:1", "keepLocally": false}))
	news, _ := marshal(resource.NewPropertyMapFromMap(map[string]any{"name": "img:1", "keepLocally": true}))
	resp, err := p.Diff(context.Background(), &pulumirpc.DiffRequest{
		Urn: "urn:pulumi:dev::proj::docker:index/remoteImage:RemoteImage::img", OldInputs: olds, News: news})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetChanges() != pulumirpc.DiffResponse_DIFF_SOME || len(resp.GetReplaces()) != 0 {
		t.Fatalf("keepLocally should update in place: %v", resp)
	}

	news, _ = marshal(resource.NewPropertyMapFromMap(map[string]any{"name": "n2"}))
	olds, _ = marshal(resource.NewPropertyMapFromMap(map[string]any{"name": "n1"}))
	resp, err = p.Diff(context.Background(), &pulumirpc.DiffRequest{Urn: networkURN, OldInputs: olds, News: news})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetReplaces()) != 1 || !resp.GetDeleteBeforeReplace() {
		t.Fatalf("a renamed network is replaced, old one first: %v", resp)
	}

	// An autonamed network is replaced with a fresh name: no delete-first.
	auto := map[string]any{"name": "net-1234567", "driver": "bridge", "__defaults": []any{"name"}}
	olds, _ = marshal(resource.NewPropertyMapFromMap(auto))
	auto["driver"] = "overlay"
	news, _ = marshal(resource.NewPropertyMapFromMap(auto))
	resp, err = p.Diff(context.Background(), &pulumirpc.DiffRequest{Urn: networkURN, OldInputs: olds, News: news})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetReplaces()) != 1 || resp.GetDeleteBeforeReplace() {
		t.Fatalf("autonamed network: want create-before-delete, got %v", resp)
	}
}

func TestCheckKeepsAutonameOnlyWhenItWasOurs(t *testing.T) {
	p := newProvider()
	req := mustMarshal(t, map[string]any{"driver": "bridge"})
	req.Olds, _ = marshal(resource.NewPropertyMapFromMap(map[string]any{"name": "net-aaaaaaa", "__defaults": []any{"name"}}))
	resp, err := p.Check(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.GetInputs().GetFields()["name"].GetStringValue(); got != "net-aaaaaaa" {
		t.Fatalf("autoname not kept: %q", got)
	}
	req.Olds, _ = marshal(resource.NewPropertyMapFromMap(map[string]any{"name": "chosen"}))
	resp, err = p.Check(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.GetInputs().GetFields()["name"].GetStringValue(); got == "chosen" {
		t.Fatal("a name the user dropped must not be kept")
	}
}

func TestSplitImageRef(t *testing.T) {
	for ref, want := range map[string][2]string{
		"nginx":                  {"nginx", "latest"},
		"nginx:1.27":             {"nginx", "1.27"},
		"localhost:5000/app":     {"localhost:5000/app", "latest"},
		"localhost:5000/app:2":   {"localhost:5000/app", "2"},
		"ghcr.io/a/b@sha256:abc": {"ghcr.io/a/b", "sha256:abc"},
	} {
		image, tag := splitImageRef(ref)
		if image != want[0] || tag != want[1] {
			t.Errorf("splitImageRef(%q) = %q, %q", ref, image, tag)
		}
	}
}

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// providerConfigKeys are the provider settings we understand. `version` is
// added by the engine for default providers.
var providerConfigKeys = map[string]bool{"host": true, "version": true}

type provider struct {
	pulumirpc.UnimplementedResourceProviderServer

	mu     sync.Mutex
	host   string
	client *engineClient
}

func newProvider() *provider { return &provider{} }

// Marshalling options: keep unknowns so preview can pass them through.
var (
	readOpts  = plugin.MarshalOptions{KeepUnknowns: true, SkipNulls: true}
	writeOpts = plugin.MarshalOptions{KeepUnknowns: true}
)

func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	if s == nil {
		return resource.PropertyMap{}, nil
	}
	return plugin.UnmarshalProperties(s, readOpts)
}

func marshal(pm resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(pm, writeOpts)
}

// typeOf extracts the resource type token from a URN.
func typeOf(urn string) string {
	parts := strings.Split(urn, "::")
	if len(parts) < 4 {
		return ""
	}
	qualified := parts[len(parts)-2]
	if i := strings.LastIndex(qualified, "$"); i >= 0 {
		qualified = qualified[i+1:]
	}
	return qualified
}

func nameOf(urn string) string {
	parts := strings.Split(urn, "::")
	return parts[len(parts)-1]
}

func kindFor(urn string) (*resourceKind, error) {
	token := typeOf(urn)
	if k, ok := kinds[token]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("resource type %s is not supported by plexica-infra's docker provider "+
		"(tools/pulumi-resource-docker supports %s)", token, strings.Join(supportedTokens(), ", "))
}

func supportedTokens() []string {
	out := make([]string, 0, len(kinds))
	for t := range kinds {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

func (p *provider) engine() (*engineClient, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client == nil {
		c, err := newEngineClient(p.host)
		if err != nil {
			return nil, err
		}
		p.client = c
	}
	return p.client, nil
}

func (p *provider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (p *provider) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: fmt.Sprintf(
		`{"name":"docker","version":%q,"description":"plexica-infra's own subset of the Docker provider"}`,
		version)}, nil
}

func (p *provider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	var failures []*pulumirpc.CheckFailure
	for key := range news {
		k := string(key)
		if !providerConfigKeys[k] && !strings.HasPrefix(k, "__") {
			failures = append(failures, &pulumirpc.CheckFailure{Property: k, Reason: fmt.Sprintf(
				"provider setting %q is not supported by plexica-infra's docker provider (only \"host\")", k)})
		}
	}
	return &pulumirpc.CheckResponse{Inputs: req.GetNews(), Failures: failures}, nil
}

func (p *provider) DiffConfig(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, err := unmarshal(req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	changed := changedKeys(olds, news)
	resp := &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}
	if len(changed) > 0 {
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
		resp.Diffs = changed
	}
	return resp, nil
}

func (p *provider) Configure(_ context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	host := ""
	if args := req.GetArgs(); args != nil {
		if v, ok := args.GetFields()["host"]; ok {
			host = v.GetStringValue()
		}
	} else if v, ok := req.GetVariables()["docker:config:host"]; ok {
		host = v
	}
	p.mu.Lock()
	p.host = host
	p.client = nil
	p.mu.Unlock()
	return &pulumirpc.ConfigureResponse{AcceptSecrets: false, SupportsPreview: false}, nil
}

func randomSuffix(seed []byte) string {
	if len(seed) >= 4 {
		return hex.EncodeToString(seed)[:7]
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:7]
}

func (p *provider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	kind, err := kindFor(req.GetUrn())
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}

	var failures []*pulumirpc.CheckFailure
	for key := range news {
		k := string(key)
		if strings.HasPrefix(k, "__") || kind.inputs[k] {
			continue
		}
		failures = append(failures, &pulumirpc.CheckFailure{Property: k, Reason: fmt.Sprintf(
			"%s.%s is not supported by plexica-infra's docker provider (tools/pulumi-resource-docker); "+
				"supported: %s", kind.token, k, strings.Join(kind.inputList(), ", "))})
	}
	for _, k := range kind.required {
		if v, ok := news[resource.PropertyKey(k)]; !ok || v.IsNull() {
			failures = append(failures, &pulumirpc.CheckFailure{Property: k, Reason: "missing required property " + k})
		}
	}
	if kind.autoname {
		if v, ok := news["name"]; !ok || v.IsNull() {
			// Remember that the name is ours (like the Terraform bridge does), so
			// that an update keeps it and a replacement, which the engine checks
			// again without olds, gets a fresh one and needs no delete-first.
			news[defaultsKey] = resource.NewArrayProperty([]resource.PropertyValue{resource.NewStringProperty("name")})
			if old, ok := olds["name"]; ok && old.IsString() && autonamed(olds) {
				news["name"] = old
			} else {
				auto := req.GetAutonaming()
				switch {
				case auto != nil && auto.GetMode() == pulumirpc.CheckRequest_AutonamingOptions_DISABLE:
					failures = append(failures, &pulumirpc.CheckFailure{Property: "name",
						Reason: "autonaming is disabled: set name"})
				case auto != nil && auto.GetProposedName() != "":
					news["name"] = resource.NewStringProperty(auto.GetProposedName())
				default:
					news["name"] = resource.NewStringProperty(nameOf(req.GetUrn()) + "-" + randomSuffix(req.GetRandomSeed()))
				}
			}
		}
	}
	if len(failures) == 0 && !news.ContainsUnknowns() && kind.validate != nil {
		if err := kind.validate(news.Mappable()); err != nil {
			failures = append(failures, &pulumirpc.CheckFailure{Reason: err.Error()})
		}
	}
	inputs, err := marshal(news)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: inputs, Failures: failures}, nil
}

// defaultsKey lists the input properties the provider filled in itself.
const defaultsKey = "__defaults"

func autonamed(inputs resource.PropertyMap) bool {
	v, ok := inputs[defaultsKey]
	if !ok || !v.IsArray() {
		return false
	}
	for _, item := range v.ArrayValue() {
		if item.IsString() && item.StringValue() == "name" {
			return true
		}
	}
	return false
}

// changedKeys lists the keys whose values differ; unknown new values count
// as changed.
func changedKeys(olds, news resource.PropertyMap) []string {
	seen := map[resource.PropertyKey]bool{}
	var out []string
	for _, pm := range []resource.PropertyMap{olds, news} {
		for k := range pm {
			if seen[k] || strings.HasPrefix(string(k), "__") {
				continue
			}
			seen[k] = true
			o, ook := olds[k]
			n, nok := news[k]
			if ook != nok || n.ContainsUnknowns() || !o.DeepEquals(n) {
				out = append(out, string(k))
			}
		}
	}
	sort.Strings(out)
	return out
}

func (p *provider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	kind, err := kindFor(req.GetUrn())
	if err != nil {
		return nil, err
	}
	oldStruct := req.GetOldInputs()
	if oldStruct == nil {
		oldStruct = req.GetOlds()
	}
	olds, err := unmarshal(oldStruct)
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	ignored := map[string]bool{}
	for _, k := range req.GetIgnoreChanges() {
		ignored[k] = true
	}
	resp := &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE, HasDetailedDiff: true,
		DetailedDiff: map[string]*pulumirpc.PropertyDiff{}}
	for _, k := range changedKeys(olds, news) {
		if ignored[k] {
			continue
		}
		resp.Diffs = append(resp.Diffs, k)
		kindOfDiff := pulumirpc.PropertyDiff_UPDATE
		_, hadOld := olds[resource.PropertyKey(k)]
		_, hasNew := news[resource.PropertyKey(k)]
		if !hadOld {
			kindOfDiff = pulumirpc.PropertyDiff_ADD
		} else if !hasNew {
			kindOfDiff = pulumirpc.PropertyDiff_DELETE
		}
		if !kind.inPlace[k] {
			resp.Replaces = append(resp.Replaces, k)
			kindOfDiff += 1 // the *_REPLACE variant follows each kind in the enum
		}
		resp.DetailedDiff[k] = &pulumirpc.PropertyDiff{Kind: kindOfDiff, InputDiff: true}
	}
	if len(resp.Diffs) > 0 {
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	// Docker names are unique: with a name the user chose, the old object must
	// go before its replacement can be created. An autonamed replacement gets
	// a fresh name (see Check), so it is created first as usual.
	resp.DeleteBeforeReplace = len(resp.Replaces) > 0 && kind.autoname && !autonamed(news)
	return resp, nil
}

func (p *provider) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	kind, err := kindFor(req.GetUrn())
	if err != nil {
		return nil, err
	}
	inputs, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	if req.GetPreview() {
		return &pulumirpc.CreateResponse{Properties: req.GetProperties()}, nil
	}
	c, err := p.engine()
	if err != nil {
		return nil, err
	}
	id, extra, err := kind.create(ctx, c, inputs.Mappable())
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", kind.token, err)
	}
	outs := inputs.Copy()
	for k, v := range resource.NewPropertyMapFromMap(extra) {
		outs[k] = v
	}
	props, err := marshal(outs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

func (p *provider) Read(ctx context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	kind, err := kindFor(req.GetUrn())
	if err != nil {
		return nil, err
	}
	c, err := p.engine()
	if err != nil {
		return nil, err
	}
	state, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	inputs, err := unmarshal(req.GetInputs())
	if err != nil {
		return nil, err
	}
	actual, err := kind.read(ctx, c, req.GetId(), state.Mappable())
	if err != nil {
		if errors.Is(err, errNotFound) {
			return &pulumirpc.ReadResponse{}, nil
		}
		return nil, err
	}
	// The engine's values replace the stored ones the resource has (outputs, and inputs
	// the program set), so that the next diff sees what was changed by hand; a value the
	// program never set is not added, so an untouched resource refreshes to no change.
	for k, v := range resource.NewPropertyMapFromMap(actual) {
		if _, stored := state[k]; stored {
			state[k] = v
		}
		if _, set := inputs[k]; set {
			inputs[k] = v
		}
	}
	props, err := marshal(state)
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.ReadResponse{Id: req.GetId(), Properties: props}
	if req.GetInputs() != nil {
		if resp.Inputs, err = marshal(inputs); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

func (p *provider) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	kind, err := kindFor(req.GetUrn())
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	// Only provider-side settings (kind.inPlace) reach Update; everything
	// else is replaced. Keep the computed outputs, take the new inputs.
	outs := olds.Copy()
	for k := range kind.inputs {
		delete(outs, resource.PropertyKey(k))
	}
	for k, v := range news {
		outs[k] = v
	}
	props, err := marshal(outs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

func (p *provider) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	kind, err := kindFor(req.GetUrn())
	if err != nil {
		return nil, err
	}
	c, err := p.engine()
	if err != nil {
		return nil, err
	}
	state, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	if err := kind.delete(ctx, c, req.GetId(), state.Mappable()); err != nil && !errors.Is(err, errNotFound) {
		return nil, fmt.Errorf("deleting %s %s: %w", kind.token, req.GetId(), err)
	}
	return &emptypb.Empty{}, nil
}

// getRemoteImageToken is the one function we serve: it looks up an image that
// is already in the engine (it never pulls), like pulumi-docker's.
const getRemoteImageToken = "docker:index/getRemoteImage:getRemoteImage"

func (p *provider) Invoke(ctx context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	if req.GetTok() != getRemoteImageToken {
		return nil, status.Errorf(codes.Unimplemented,
			"function %s is not supported by plexica-infra's docker provider (only %s)",
			req.GetTok(), getRemoteImageToken)
	}
	args, err := unmarshal(req.GetArgs())
	if err != nil {
		return nil, err
	}
	name := str(args.Mappable(), "name")
	if name == "" {
		return &pulumirpc.InvokeResponse{Failures: []*pulumirpc.CheckFailure{
			{Property: "name", Reason: "missing required property name"}}}, nil
	}
	c, err := p.engine()
	if err != nil {
		return nil, err
	}
	img, err := c.inspectImage(ctx, name)
	if err != nil {
		if errors.Is(err, errNotFound) {
			return nil, fmt.Errorf("getRemoteImage: image %s is not in the Docker engine at %s", name, c.host)
		}
		return nil, err
	}
	result, err := marshal(resource.NewPropertyMapFromMap(map[string]any{
		"id": img.ID, "name": name, "repoDigest": firstDigest(img.RepoDigests)}))
	if err != nil {
		return nil, err
	}
	return &pulumirpc.InvokeResponse{Return: result}, nil
}

func (p *provider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

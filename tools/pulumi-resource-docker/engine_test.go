package main

// Tests of the provider against a fake Docker engine (net/http/httptest): the
// provider's own HTTP client, paths, bodies and error handling run for real; the
// engine's answers are the documented API shapes, kept in memory.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"
)

type fakeContainer struct {
	ID, Name string
	Config   map[string]any
	Host     map[string]any
	Running  bool
	Health   []string // successive health states reported by inspect ("" = no healthcheck)
	Networks []string
	Starts   int // how often the container was (re)started: inspect's StartedAt and RestartCount
}

type fakeEngine struct {
	mu          sync.Mutex
	containers  map[string]*fakeContainer
	networks    map[string]map[string]any
	volumes     map[string]map[string]any
	images      map[string]string // reference -> image id
	requests    []string          // "METHOD escaped-path"
	failStart   bool
	exitOnStart bool     // containers stop right after starting
	noHealth    bool     // inspect reports no health status
	health      []string // health states a new container with a healthcheck goes through
	failCreate  string   // message of a 500 on container create
	pullError   string   // error line in the pull stream
	probeExits  []int    // exit codes of successive healthcheck execs (nil: the engine refuses exec)
	restartOn   int      // the container restarts right after this exec (1-based; 0: never)
	execs       int
	seq         int
}

func newFakeEngine() *fakeEngine {
	return &fakeEngine{containers: map[string]*fakeContainer{}, networks: map[string]map[string]any{},
		volumes: map[string]map[string]any{}, images: map[string]string{"plexica/crm:1.2.0": "sha256:crm"}}
}

// serve starts the fake engine and returns a provider configured for it.
func (f *fakeEngine) serve(t *testing.T) *provider {
	t.Helper()
	server := httptest.NewServer(http.HandlerFunc(f.handle))
	t.Cleanup(server.Close)
	p := newProvider()
	args, _ := structpb.NewStruct(map[string]any{"host": "tcp://" + strings.TrimPrefix(server.URL, "http://")})
	if _, err := p.Configure(context.Background(), &pulumirpc.ConfigureRequest{Args: args}); err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *fakeEngine) reply(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if body != nil {
		_ = json.NewEncoder(w).Encode(body)
	}
}

func (f *fakeEngine) handle(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.URL.EscapedPath())
	var body map[string]any
	if data, _ := io.ReadAll(r.Body); len(data) > 0 {
		_ = json.Unmarshal(data, &body)
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	notFound := func() { f.reply(w, 404, map[string]string{"message": "no such object: " + r.URL.Path}) }
	switch {
	case r.Method == "POST" && r.URL.Path == "/networks/create":
		f.seq++
		id := fmt.Sprintf("net%d", f.seq)
		body["Id"] = id
		f.networks[id] = body
		f.reply(w, 201, map[string]string{"Id": id})
	case parts[0] == "networks" && len(parts) == 3 && parts[2] == "connect":
		c := f.containers[body["Container"].(string)]
		c.Networks = append(c.Networks, parts[1])
		f.reply(w, 200, nil)
	case parts[0] == "networks" && len(parts) == 2:
		n, ok := f.networks[parts[1]]
		switch {
		case !ok:
			notFound()
		case r.Method == "DELETE":
			delete(f.networks, parts[1])
			f.reply(w, 204, nil)
		default:
			f.reply(w, 200, map[string]any{"Name": n["Name"], "Driver": "bridge", "Scope": "local",
				"Internal": n["Internal"], "Attachable": n["Attachable"], "EnableIPv6": false, "Labels": n["Labels"]})
		}
	case r.URL.Path == "/volumes/create":
		f.volumes[body["Name"].(string)] = body
		f.reply(w, 201, map[string]any{"Name": body["Name"], "Driver": "local", "Mountpoint": "/var/lib/x"})
	case parts[0] == "volumes" && len(parts) == 2:
		v, ok := f.volumes[parts[1]]
		switch {
		case !ok:
			notFound()
		case r.Method == "DELETE":
			delete(f.volumes, parts[1])
			f.reply(w, 204, nil)
		default:
			f.reply(w, 200, map[string]any{"Name": v["Name"], "Driver": "local", "Labels": v["Labels"]})
		}
	case r.URL.Path == "/images/create":
		ref := r.URL.Query().Get("fromImage") + ":" + r.URL.Query().Get("tag")
		f.reply(w, 200, map[string]string{"status": "Pulling " + ref})
		if f.pullError != "" {
			_ = json.NewEncoder(w).Encode(map[string]string{"error": f.pullError})
			return
		}
		f.images[ref] = "sha256:pulled"
	case parts[0] == "images":
		ref := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/images/"), "/json")
		id, ok := f.images[ref]
		switch {
		case !ok:
			notFound()
		case r.Method == "DELETE":
			delete(f.images, ref)
			f.reply(w, 200, []any{})
		default:
			f.reply(w, 200, map[string]any{"Id": id, "RepoDigests": []string{"plexica/crm@sha256:abc"}})
		}
	case r.URL.Path == "/containers/create":
		if f.failCreate != "" {
			f.reply(w, 500, map[string]string{"message": f.failCreate})
			return
		}
		f.seq++
		id := fmt.Sprintf("c%d", f.seq)
		host, _ := body["HostConfig"].(map[string]any)
		c := &fakeContainer{ID: id, Name: r.URL.Query().Get("name"), Config: body, Host: host}
		if _, ok := body["Healthcheck"]; ok {
			c.Health = []string{"starting", "healthy"}
			if f.health != nil {
				c.Health = append([]string(nil), f.health...)
			}
		}
		f.containers[id] = c
		f.reply(w, 201, map[string]string{"Id": id})
	case parts[0] == "exec" && len(parts) == 3 && parts[2] == "start":
		f.reply(w, 200, nil)
	case parts[0] == "exec" && len(parts) == 3 && parts[2] == "json":
		var n, code int
		_, _ = fmt.Sscanf(parts[1], "exec%d-%d", &n, &code)
		f.reply(w, 200, map[string]any{"Running": false, "ExitCode": code})
	case parts[0] == "containers" && len(parts) >= 2:
		c := f.findContainer(parts[1])
		if c == nil {
			notFound()
			return
		}
		action := ""
		if len(parts) == 3 {
			action = parts[2]
		}
		switch {
		case r.Method == "DELETE":
			delete(f.containers, c.ID)
			f.reply(w, 204, nil)
		case action == "start" && f.failStart:
			f.reply(w, 500, map[string]string{"message": "driver failed programming external connectivity"})
		case action == "start":
			c.Running = !f.exitOnStart
			c.Starts++
			f.reply(w, 204, nil)
		case action == "exec" && f.probeExits != nil:
			f.execs++
			code := 1
			if len(f.probeExits) > 0 {
				code, f.probeExits = f.probeExits[0], f.probeExits[1:]
			}
			if f.execs == f.restartOn {
				c.Starts++
			}
			f.reply(w, 201, map[string]string{"Id": fmt.Sprintf("exec%d-%d", f.execs, code)})
		case action == "stop":
			c.Running = false
			f.reply(w, 204, nil)
		case action == "json":
			f.reply(w, 200, f.inspect(c))
		default:
			notFound()
		}
	default:
		notFound()
	}
}

func (f *fakeEngine) findContainer(key string) *fakeContainer {
	for _, c := range f.containers {
		if c.ID == key || c.Name == key {
			return c
		}
	}
	return nil
}

func (f *fakeEngine) inspect(c *fakeContainer) map[string]any {
	state := map[string]any{"Running": c.Running, "Status": map[bool]string{true: "running", false: "exited"}[c.Running],
		"StartedAt": fmt.Sprintf("2026-12-03T16:00:%02d.000000000Z", c.Starts)}
	if len(c.Health) > 0 && !f.noHealth {
		state["Health"] = map[string]any{"Status": c.Health[0]}
		if len(c.Health) > 1 {
			c.Health = c.Health[1:]
		}
	}
	ports := map[string]any{}
	bindings, _ := c.Host["PortBindings"].(map[string]any)
	for key, list := range bindings {
		var bound []map[string]string
		for i, b := range list.([]any) {
			binding := b.(map[string]any)
			port, _ := binding["HostPort"].(string)
			if port == "" {
				port = fmt.Sprint(32768 + i)
			}
			bound = append(bound, map[string]string{"HostIp": fmt.Sprint(binding["HostIp"]), "HostPort": port})
		}
		ports[key] = bound
	}
	return map[string]any{"Id": c.ID, "Name": "/" + c.Name, "State": state, "HostConfig": c.Host,
		"RestartCount":    max(c.Starts-1, 0),
		"NetworkSettings": map[string]any{"Ports": ports}}
}

// --- helpers ---------------------------------------------------------------------

const containerURN = "urn:pulumi:dev::proj::plexica:docker:Plugin$docker:index/container:Container::crm"

func props_(t *testing.T, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := marshal(resource.NewPropertyMapFromMap(m))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func plain(s *structpb.Struct) map[string]any {
	pm, _ := unmarshal(s)
	return pm.Mappable()
}

func container(extra map[string]any) map[string]any {
	in := map[string]any{
		"name": "crm-1", "image": "plexica/crm:1.2.0", "restart": "unless-stopped", "memory": 512.0,
		"memoryReservation": 256.0, "cpus": "0.50", "user": "1001", "readOnly": true,
		"envs":         []any{"PORT=3100"},
		"labels":       []any{map[string]any{"label": "plexica.plugin", "value": "crm"}},
		"ports":        []any{map[string]any{"internal": 3100.0, "ip": "127.0.0.1"}},
		"capabilities": map[string]any{"drops": []any{"ALL"}},
		"healthcheck": map[string]any{"tests": []any{"CMD", "/plugin", "healthcheck"}, "interval": "1s",
			"timeout": "1s", "retries": 3.0},
		"wait": true, "waitTimeout": 5.0,
		"networksAdvanced": []any{map[string]any{"name": "plexica", "aliases": []any{"plugin-crm"}},
			map[string]any{"name": "extra"}},
		"logDriver": "json-file", "logOpts": map[string]any{"max-size": "10m"},
		"hosts":   []any{map[string]any{"host": "core", "ip": "10.0.0.1"}},
		"volumes": []any{map[string]any{"volumeName": "data", "containerPath": "/data", "readOnly": true}},
	}
	for k, v := range extra {
		in[k] = v
	}
	return in
}

func create(t *testing.T, p *provider, urn string, in map[string]any) (*pulumirpc.CreateResponse, error) {
	t.Helper()
	return p.Create(context.Background(), &pulumirpc.CreateRequest{Urn: urn, Properties: props_(t, in)})
}

// --- tests -----------------------------------------------------------------------

func TestContainerCreateWaitsHealthyAndReportsPublishedPorts(t *testing.T) {
	f := newFakeEngine()
	p := f.serve(t)
	resp, err := create(t, p, containerURN, container(nil))
	if err != nil {
		t.Fatal(err)
	}
	c := f.containers[resp.GetId()]
	if c == nil || !c.Running {
		t.Fatalf("container not created and started: %+v", f.containers)
	}
	host := c.Host
	if host["Memory"].(float64) != 512*megabyte || host["NanoCpus"].(float64) != 5e8 || host["ReadonlyRootfs"] != true {
		t.Fatalf("limits not sent: %v", host)
	}
	if got := c.Config["Healthcheck"].(map[string]any)["Interval"].(float64); got != 1e9 {
		t.Fatalf("healthcheck interval = %v", got)
	}
	if strings.Join(c.Networks, ",") != "extra" {
		t.Fatalf("second network not connected: %v", c.Networks)
	}
	ports := plain(resp.GetProperties())["ports"].([]any)
	if ext := ports[0].(map[string]any)["external"]; ext != 32768.0 {
		t.Fatalf("external port = %v, want the bound 32768", ext)
	}
	if c.Health[0] != "healthy" {
		t.Fatalf("create returned before the healthcheck passed: %v", c.Health)
	}
}

func TestContainerCreateFailuresRemoveTheHalfMadeContainer(t *testing.T) {
	for name, setup := range map[string]func(f *fakeEngine, in map[string]any){
		"start fails":     func(f *fakeEngine, _ map[string]any) { f.failStart = true },
		"never healthy":   func(_ *fakeEngine, in map[string]any) { in["waitTimeout"] = 0.0 },
		"turns unhealthy": func(f *fakeEngine, _ map[string]any) { f.health = []string{"starting", "unhealthy"} },
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeEngine()
			in := container(nil)
			setup(f, in)
			if _, err := create(t, f.serve(t), containerURN, in); err == nil {
				t.Fatal("want an error")
			}
			if len(f.containers) != 0 {
				t.Fatalf("half-made container left behind: %v", f.containers)
			}
		})
	}
}

func TestContainerCreateErrorsNameTheEngineMessage(t *testing.T) {
	f := newFakeEngine()
	f.failCreate = "Conflict. The container name \"/crm-1\" is already in use"
	_, err := create(t, f.serve(t), containerURN, container(nil))
	if err == nil || !strings.Contains(err.Error(), "already in use") || !strings.Contains(err.Error(), "500") {
		t.Fatalf("error = %v", err)
	}
}

func TestWaitEndsWhenTheContainerStopsOrTheRunIsCancelled(t *testing.T) {
	f := newFakeEngine()
	f.exitOnStart = true
	p := f.serve(t)
	_, err := create(t, p, containerURN, container(nil))
	if err == nil || !strings.Contains(err.Error(), "stopped") || len(f.containers) != 0 {
		t.Fatalf("a container that stops while waiting: %v (left %v)", err, f.containers)
	}
	f.exitOnStart = false
	f.noHealth = true
	if _, err := create(t, p, containerURN, container(nil)); err == nil || !strings.Contains(err.Error(), "no healthcheck") {
		t.Fatalf("no health status: %v", err)
	}
	f.noHealth = false
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Create(ctx, &pulumirpc.CreateRequest{Urn: containerURN, Properties: props_(t, container(nil))}); err == nil {
		t.Fatal("a cancelled create must end")
	}
	if len(f.containers) != 0 {
		t.Fatalf("a cancelled create left %v", f.containers)
	}
}

func TestMustRunFailsWhenTheContainerExits(t *testing.T) {
	f := newFakeEngine()
	f.exitOnStart = true
	in := container(map[string]any{"wait": false})
	_, err := create(t, f.serve(t), containerURN, in)
	if err == nil || !strings.Contains(err.Error(), "mustRun") || len(f.containers) != 0 {
		t.Fatalf("mustRun: %v (left %v)", err, f.containers)
	}
	in["mustRun"] = false
	if _, err := create(t, f.serve(t), containerURN, in); err != nil {
		t.Fatalf("mustRun false: %v", err)
	}
}

func TestReadReportsChangesMadeByHand(t *testing.T) {
	f := newFakeEngine()
	p := f.serve(t)
	in := container(nil)
	created, err := create(t, p, containerURN, in)
	if err != nil {
		t.Fatal(err)
	}
	read := func() map[string]any {
		resp, err := p.Read(context.Background(), &pulumirpc.ReadRequest{Id: created.GetId(), Urn: containerURN,
			Properties: created.GetProperties(), Inputs: props_(t, in)})
		if err != nil {
			t.Fatal(err)
		}
		return plain(resp.GetInputs())
	}
	unchanged := read()
	if want := plain(props_(t, in)); !reflect.DeepEqual(unchanged, want) {
		t.Fatalf("an untouched container must refresh to its stored inputs:\n got %v\nwant %v", unchanged, want)
	}
	untouched, err := p.Read(context.Background(), &pulumirpc.ReadRequest{Id: created.GetId(), Urn: containerURN,
		Properties: created.GetProperties(), Inputs: props_(t, in)})
	if err != nil || !reflect.DeepEqual(plain(untouched.GetProperties()), plain(created.GetProperties())) {
		t.Fatalf("an untouched container must refresh to its stored outputs: %v", err)
	}
	// `docker update --memory 1g --cpus 2 --restart no` and `docker rename`
	c := f.containers[created.GetId()]
	c.Host["Memory"] = 1024.0 * megabyte
	c.Host["NanoCpus"] = 2e9
	c.Host["RestartPolicy"] = map[string]any{"Name": "no"}
	c.Name = "renamed"
	changed := read()
	if changed["memory"] != 1024.0 || changed["cpus"] != "2" || changed["restart"] != "no" || changed["name"] != "renamed" {
		t.Fatalf("read did not report the engine's settings: %v", changed)
	}
	// removed by hand: the resource is gone
	delete(f.containers, created.GetId())
	resp, err := p.Read(context.Background(), &pulumirpc.ReadRequest{Id: created.GetId(), Urn: containerURN,
		Properties: created.GetProperties()})
	if err != nil || resp.GetId() != "" {
		t.Fatalf("a removed container must read as gone: %v %v", resp, err)
	}
}

func TestContainerDeleteStopsWithGraceThenRemoves(t *testing.T) {
	f := newFakeEngine()
	p := f.serve(t)
	created, err := create(t, p, containerURN, container(map[string]any{"destroyGraceSeconds": 7.0}))
	if err != nil {
		t.Fatal(err)
	}
	f.requests = nil
	if _, err := p.Delete(context.Background(), &pulumirpc.DeleteRequest{Id: created.GetId(), Urn: containerURN,
		Properties: created.GetProperties()}); err != nil {
		t.Fatal(err)
	}
	want := "POST /containers/" + created.GetId() + "/stop,DELETE /containers/" + created.GetId()
	if strings.Join(f.requests, ",") != want || len(f.containers) != 0 {
		t.Fatalf("requests %v", f.requests)
	}
	// deleting what is already gone succeeds
	if _, err := p.Delete(context.Background(), &pulumirpc.DeleteRequest{Id: created.GetId(), Urn: containerURN,
		Properties: created.GetProperties()}); err != nil {
		t.Fatal(err)
	}
}

func TestNetworkAndVolumeLifecycle(t *testing.T) {
	f := newFakeEngine()
	p := f.serve(t)
	for urn, in := range map[string]map[string]any{
		"urn:pulumi:dev::proj::docker:index/network:Network::net": {"name": "plexica", "attachable": true,
			"labels":      []any{map[string]any{"label": "plexica.managed-by", "value": "plexica-infra"}},
			"ipamConfigs": []any{map[string]any{"subnet": "10.9.0.0/24"}}},
		"urn:pulumi:dev::proj::docker:index/volume:Volume::vol": {"name": "data",
			"labels": []any{map[string]any{"label": "k", "value": "v"}}},
	} {
		created, err := create(t, p, urn, in)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := p.Read(context.Background(), &pulumirpc.ReadRequest{Id: created.GetId(), Urn: urn,
			Properties: created.GetProperties(), Inputs: props_(t, in)})
		if err != nil || resp.GetId() != created.GetId() {
			t.Fatalf("read %s: %v %v", urn, resp, err)
		}
		got := plain(resp.GetInputs())
		if got["name"] != in["name"] || fmt.Sprint(got["labels"]) != fmt.Sprint(in["labels"]) {
			t.Fatalf("read %s: %v", urn, got)
		}
		if _, err := p.Delete(context.Background(), &pulumirpc.DeleteRequest{Id: created.GetId(), Urn: urn,
			Properties: created.GetProperties()}); err != nil {
			t.Fatal(err)
		}
		gone, err := p.Read(context.Background(), &pulumirpc.ReadRequest{Id: created.GetId(), Urn: urn,
			Properties: created.GetProperties()})
		if err != nil || gone.GetId() != "" {
			t.Fatalf("deleted %s still reads: %v %v", urn, gone, err)
		}
	}
	if len(f.networks)+len(f.volumes) != 0 {
		t.Fatalf("left behind: %v %v", f.networks, f.volumes)
	}
}

const imageURN = "urn:pulumi:dev::proj::docker:index/remoteImage:RemoteImage::img"

func TestRemoteImageUsesLocalPullsMissingAndEscapesNames(t *testing.T) {
	f := newFakeEngine()
	p := f.serve(t)
	local, err := create(t, p, imageURN, map[string]any{"name": "plexica/crm:1.2.0", "keepLocally": true})
	if err != nil || plain(local.GetProperties())["imageId"] != "sha256:crm" {
		t.Fatalf("local image: %v %v", local, err)
	}
	for _, r := range f.requests {
		if strings.HasPrefix(r, "POST /images/create") {
			t.Fatalf("a local image must not be pulled: %v", f.requests)
		}
	}
	pulled, err := create(t, p, imageURN, map[string]any{"name": "registry.example:5000/team/app:2"})
	if err != nil || plain(pulled.GetProperties())["imageId"] != "sha256:pulled" {
		t.Fatalf("pulled image: %v %v", pulled, err)
	}
	// read sees an image re-tagged by hand
	f.images["plexica/crm:1.2.0"] = "sha256:other"
	resp, err := p.Read(context.Background(), &pulumirpc.ReadRequest{Id: local.GetId(), Urn: imageURN,
		Properties: local.GetProperties()})
	if err != nil || plain(resp.GetProperties())["imageId"] != "sha256:other" {
		t.Fatalf("read: %v %v", resp, err)
	}
	// keepLocally: delete leaves it; otherwise it is removed
	if _, err := p.Delete(context.Background(), &pulumirpc.DeleteRequest{Urn: imageURN,
		Properties: local.GetProperties()}); err != nil || f.images["plexica/crm:1.2.0"] == "" {
		t.Fatalf("keepLocally: %v", err)
	}
	if _, err := p.Delete(context.Background(), &pulumirpc.DeleteRequest{Urn: imageURN,
		Properties: pulled.GetProperties()}); err != nil || f.images["registry.example:5000/team/app:2"] != "" {
		t.Fatalf("delete: %v %v", err, f.images)
	}
	// a name that would climb to another route never reaches the engine
	f.requests = nil
	for _, bad := range []string{"../containers/x", "a/../../b", "..:1/x", "x y", "a?b=c", "a/b:../c"} {
		if _, err := create(t, p, imageURN, map[string]any{"name": bad}); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
	if len(f.requests) != 0 {
		t.Fatalf("invalid names reached the engine: %v", f.requests)
	}
	f.pullError = "manifest unknown"
	if _, err := create(t, p, imageURN, map[string]any{"name": "nowhere/app:9"}); err == nil ||
		!strings.Contains(err.Error(), "manifest unknown") {
		t.Fatalf("pull error: %v", err)
	}
}

func TestGetRemoteImage(t *testing.T) {
	f := newFakeEngine()
	p := f.serve(t)
	resp, err := p.Invoke(context.Background(), &pulumirpc.InvokeRequest{Tok: getRemoteImageToken,
		Args: props_(t, map[string]any{"name": "plexica/crm:1.2.0"})})
	if err != nil || plain(resp.GetReturn())["id"] != "sha256:crm" ||
		plain(resp.GetReturn())["repoDigest"] != "sha256:abc" {
		t.Fatalf("invoke: %v %v", resp, err)
	}
	if _, err := p.Invoke(context.Background(), &pulumirpc.InvokeRequest{Tok: getRemoteImageToken,
		Args: props_(t, map[string]any{"name": "plexica/absent:1"})}); err == nil ||
		!strings.Contains(err.Error(), "is not in the Docker engine") {
		t.Fatalf("missing image: %v", err)
	}
	missing, err := p.Invoke(context.Background(), &pulumirpc.InvokeRequest{Tok: getRemoteImageToken,
		Args: props_(t, map[string]any{})})
	if err != nil || len(missing.GetFailures()) != 1 {
		t.Fatalf("no name: %v %v", missing, err)
	}
	if _, err := p.Invoke(context.Background(), &pulumirpc.InvokeRequest{Tok: "docker:index/getNetwork:getNetwork"}); err == nil {
		t.Fatal("unsupported function accepted")
	}
}

func TestEngineClientHosts(t *testing.T) {
	for host, ok := range map[string]bool{"unix:///var/run/docker.sock": true, "tcp://127.0.0.1:2375": true,
		"ssh://me@host": false, "npipe:////./pipe/docker": false, "::bad": false} {
		_, err := newEngineClient(host)
		if (err == nil) != ok {
			t.Errorf("%s: %v", host, err)
		}
	}
	t.Setenv("DOCKER_HOST", "tcp://10.1.1.1:2375")
	c, err := newEngineClient("")
	if err != nil || c.base != "http://10.1.1.1:2375" {
		t.Fatalf("DOCKER_HOST: %v %v", c, err)
	}
	// an engine that answers garbage on error
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(500)
		_, _ = w.Write([]byte("plain failure"))
	}))
	defer server.Close()
	c, _ = newEngineClient("tcp://" + strings.TrimPrefix(server.URL, "http://"))
	if err := c.do(context.Background(), "GET", "/x", url.Values{"a": {"1"}}, map[string]any{}, nil); err == nil ||
		!strings.Contains(err.Error(), "plain failure") {
		t.Fatalf("error body: %v", err)
	}
	server.Close()
	if err := c.do(context.Background(), "GET", "/x", nil, nil, nil); err == nil {
		t.Fatal("a closed engine must fail")
	}
}

func TestProviderConfigAndSchema(t *testing.T) {
	p := newProvider()
	check, err := p.CheckConfig(context.Background(), &pulumirpc.CheckRequest{
		News: props_(t, map[string]any{"host": "unix:///x", "version": "5.2.0", "registryAuth": "x"})})
	if err != nil || len(check.GetFailures()) != 1 || check.GetFailures()[0].GetProperty() != "registryAuth" {
		t.Fatalf("check config: %v %v", check, err)
	}
	diff, err := p.DiffConfig(context.Background(), &pulumirpc.DiffRequest{
		OldInputs: props_(t, map[string]any{"host": "a"}), News: props_(t, map[string]any{"host": "b"})})
	if err != nil || diff.GetChanges() != pulumirpc.DiffResponse_DIFF_SOME {
		t.Fatalf("diff config: %v %v", diff, err)
	}
	if _, err := p.Configure(context.Background(), &pulumirpc.ConfigureRequest{
		Variables: map[string]string{"docker:config:host": "unix:///v"}}); err != nil || p.host != "unix:///v" {
		t.Fatalf("configure by variables: %v %q", err, p.host)
	}
	info, _ := p.GetPluginInfo(context.Background(), nil)
	schema, _ := p.GetSchema(context.Background(), nil)
	if info.GetVersion() != version || !strings.Contains(schema.GetSchema(), `"name":"docker"`) {
		t.Fatalf("info %v schema %v", info, schema)
	}
	if _, err := p.Cancel(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
}

func TestUpdateKeepsOutputsAndTakesNewSettings(t *testing.T) {
	p := newProvider()
	resp, err := p.Update(context.Background(), &pulumirpc.UpdateRequest{Urn: imageURN,
		Olds: props_(t, map[string]any{"name": "a:1", "keepLocally": false, "imageId": "sha256:1"}),
		News: props_(t, map[string]any{"name": "a:1", "keepLocally": true})})
	if err != nil {
		t.Fatal(err)
	}
	got := plain(resp.GetProperties())
	if got["keepLocally"] != true || got["imageId"] != "sha256:1" {
		t.Fatalf("update: %v", got)
	}
}

func TestCheckValidatesContainers(t *testing.T) {
	p := newProvider()
	for reason, in := range map[string]map[string]any{
		"needs a healthcheck": {"image": "a:1", "wait": true},
		"hostPath or volumeName": {"image": "a:1",
			"volumes": []any{map[string]any{"containerPath": "/x"}}},
		"healthcheck.interval": {"image": "a:1", "healthcheck": map[string]any{"tests": []any{"CMD"},
			"interval": "soon"}},
		"missing required property image": {},
	} {
		resp, err := p.Check(context.Background(), &pulumirpc.CheckRequest{Urn: containerURN,
			News: props_(t, in), RandomSeed: []byte{9, 9, 9, 9}})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetFailures()) == 0 || !strings.Contains(resp.GetFailures()[0].GetReason(), reason) {
			t.Errorf("%s: failures %v", reason, resp.GetFailures())
		}
	}
	// autonaming: a proposed name is taken; disabled autonaming needs a name
	resp, _ := p.Check(context.Background(), &pulumirpc.CheckRequest{Urn: containerURN,
		News: props_(t, map[string]any{"image": "a:1"}),
		Autonaming: &pulumirpc.CheckRequest_AutonamingOptions{ProposedName: "crm-proposed",
			Mode: pulumirpc.CheckRequest_AutonamingOptions_PROPOSE}})
	if plain(resp.GetInputs())["name"] != "crm-proposed" {
		t.Fatalf("proposed name: %v", plain(resp.GetInputs()))
	}
	resp, _ = p.Check(context.Background(), &pulumirpc.CheckRequest{Urn: containerURN,
		News:       props_(t, map[string]any{"image": "a:1"}),
		Autonaming: &pulumirpc.CheckRequest_AutonamingOptions{Mode: pulumirpc.CheckRequest_AutonamingOptions_DISABLE}})
	if len(resp.GetFailures()) != 1 {
		t.Fatalf("disabled autonaming: %v", resp.GetFailures())
	}
	// an update keeps the autonamed name
	first, _ := p.Check(context.Background(), &pulumirpc.CheckRequest{Urn: containerURN,
		News: props_(t, map[string]any{"image": "a:1"}), RandomSeed: []byte{1, 1, 1, 1}})
	again, _ := p.Check(context.Background(), &pulumirpc.CheckRequest{Urn: containerURN, Olds: first.GetInputs(),
		News: props_(t, map[string]any{"image": "a:2"}), RandomSeed: []byte{2, 2, 2, 2}})
	if plain(again.GetInputs())["name"] != plain(first.GetInputs())["name"] {
		t.Fatalf("autoname changed on update: %v -> %v", plain(first.GetInputs()), plain(again.GetInputs()))
	}
	// named replacement deletes first; autonamed does not
	diff, _ := p.Diff(context.Background(), &pulumirpc.DiffRequest{Urn: containerURN,
		OldInputs: props_(t, map[string]any{"name": "x", "image": "a:1"}),
		News:      props_(t, map[string]any{"name": "x", "image": "a:2"}), IgnoreChanges: []string{"envs"}})
	if !diff.GetDeleteBeforeReplace() || len(diff.GetReplaces()) != 1 {
		t.Fatalf("named replace: %v", diff)
	}
}

func TestPreviewCreateTouchesNoEngine(t *testing.T) {
	p := newProvider()
	p.host = "tcp://127.0.0.1:1" // nothing listens there
	resp, err := p.Create(context.Background(), &pulumirpc.CreateRequest{Urn: containerURN,
		Properties: props_(t, container(nil)), Preview: true})
	if err != nil || resp.GetId() != "" {
		t.Fatalf("preview create: %v %v", resp, err)
	}
}

func TestHelpers(t *testing.T) {
	for ref, want := range map[string][2]string{"a/b:1": {"a/b", "1"}, "host:5000/a": {"host:5000/a", "latest"},
		"a@sha256:ff": {"a", "sha256:ff"}} {
		if img, tag := splitImageRef(ref); img != want[0] || tag != want[1] {
			t.Errorf("%s -> %s %s", ref, img, tag)
		}
	}
	if d, err := parseDuration("x", "1m30s"); err != nil || d != 90e9 {
		t.Fatalf("duration: %v %v", d, err)
	}
	if firstDigest(nil) != "" || firstDigest([]string{"a@sha256:1"}) != "sha256:1" {
		t.Fatal("firstDigest")
	}
	if typeOf("bad") != "" {
		t.Fatal("typeOf of a malformed URN")
	}
}

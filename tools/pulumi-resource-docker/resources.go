package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

type props = map[string]any

// resourceKind describes one supported resource type.
type resourceKind struct {
	token    string
	inputs   map[string]bool // supported input properties
	required []string
	autoname bool            // `name` is generated when not given
	inPlace  map[string]bool // properties that change without replacement
	validate func(in props) error
	create   func(ctx context.Context, c *engineClient, in props) (string, props, error)
	// read returns the engine's actual values of the inputs it can read back, so that
	// a refresh sees changes made by hand; errNotFound when the object is gone.
	read   func(ctx context.Context, c *engineClient, id string, state props) (props, error)
	delete func(ctx context.Context, c *engineClient, id string, state props) error
}

func (k *resourceKind) inputList() []string {
	out := make([]string, 0, len(k.inputs))
	for name := range k.inputs {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

var kinds = map[string]*resourceKind{}

func register(k *resourceKind) { kinds[k.token] = k }

func init() {
	register(networkKind())
	register(volumeKind())
	register(remoteImageKind())
	register(containerKind())
}

// --- value helpers (values come from PropertyMap.Mappable: numbers are float64)

func str(m props, k string) string {
	s, _ := m[k].(string)
	return s
}

func boolean(m props, k string, def bool) bool {
	if b, ok := m[k].(bool); ok {
		return b
	}
	return def
}

func number(m props, k string) (float64, bool) {
	f, ok := m[k].(float64)
	return f, ok
}

func list(m props, k string) []any {
	l, _ := m[k].([]any)
	return l
}

func objects(m props, k string) []props {
	var out []props
	for _, v := range list(m, k) {
		if o, ok := v.(map[string]any); ok {
			out = append(out, o)
		}
	}
	return out
}

func strings_(m props, k string) []string {
	var out []string
	for _, v := range list(m, k) {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func stringMap(m props, k string) map[string]string {
	raw, _ := m[k].(map[string]any)
	if len(raw) == 0 {
		return nil
	}
	out := make(map[string]string, len(raw))
	for key, v := range raw {
		out[key] = fmt.Sprint(v)
	}
	return out
}

// labelList turns an engine's label map into pulumi-docker's [{label, value}] list, sorted.
func labelList(labels map[string]string) []any {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]any, 0, len(keys))
	for _, k := range keys {
		out = append(out, map[string]any{"label": k, "value": labels[k]})
	}
	return out
}

// readLabels is the engine's labels as a [{label, value}] list, in the stored order when
// they are the same set (a refresh must not turn a reordering into a change).
func readLabels(state props, actual map[string]string) []any {
	stored := labelMap(state)
	if len(stored) == len(actual) {
		same := true
		for k, v := range actual {
			if sv, ok := stored[k]; !ok || sv != v {
				same = false
				break
			}
		}
		if same {
			if l := list(state, "labels"); l != nil {
				return l
			}
		}
	}
	return labelList(actual)
}

// labelMap turns pulumi-docker's [{label, value}] lists into a map.
func labelMap(m props) map[string]string {
	out := map[string]string{}
	for _, l := range objects(m, "labels") {
		out[str(l, "label")] = str(l, "value")
	}
	return out
}

// --- docker:index/network:Network

func networkKind() *resourceKind {
	return &resourceKind{
		token: "docker:index/network:Network",
		inputs: set("name", "driver", "internal", "attachable", "ingress", "ipv6", "labels", "options",
			"ipamDriver", "ipamOptions", "ipamConfigs"),
		autoname: true,
		create: func(ctx context.Context, c *engineClient, in props) (string, props, error) {
			ipam := map[string]any{"Driver": str(in, "ipamDriver"), "Options": stringMap(in, "ipamOptions")}
			if ipam["Driver"] == "" {
				ipam["Driver"] = "default"
			}
			var configs []map[string]any
			for _, cfg := range objects(in, "ipamConfigs") {
				configs = append(configs, map[string]any{"Subnet": str(cfg, "subnet"), "Gateway": str(cfg, "gateway"),
					"IPRange": str(cfg, "ipRange"), "AuxiliaryAddresses": stringMap(cfg, "auxAddress")})
			}
			ipam["Config"] = configs
			body := map[string]any{
				"Name": str(in, "name"), "Driver": str(in, "driver"), "Internal": boolean(in, "internal", false),
				"Attachable": boolean(in, "attachable", false), "Ingress": boolean(in, "ingress", false),
				"EnableIPv6": boolean(in, "ipv6", false), "Labels": labelMap(in), "Options": stringMap(in, "options"),
				"IPAM": ipam,
			}
			var created struct {
				ID string `json:"Id"`
			}
			if err := c.do(ctx, http.MethodPost, "/networks/create", nil, body, &created); err != nil {
				return "", nil, err
			}
			var inspected struct {
				Scope  string
				Driver string
			}
			if err := c.do(ctx, http.MethodGet, "/networks/"+url.PathEscape(created.ID), nil, nil, &inspected); err != nil {
				return "", nil, err
			}
			return created.ID, props{"scope": inspected.Scope, "driver": inspected.Driver}, nil
		},
		read: func(ctx context.Context, c *engineClient, id string, state props) (props, error) {
			var n struct {
				Name       string
				Driver     string
				Internal   bool
				Attachable bool
				EnableIPv6 bool
				Labels     map[string]string
			}
			if err := c.do(ctx, http.MethodGet, "/networks/"+url.PathEscape(id), nil, nil, &n); err != nil {
				return nil, err
			}
			return props{"name": n.Name, "driver": n.Driver, "internal": n.Internal, "attachable": n.Attachable,
				"ipv6": n.EnableIPv6, "labels": readLabels(state, n.Labels)}, nil
		},
		delete: func(ctx context.Context, c *engineClient, id string, _ props) error {
			return c.do(ctx, http.MethodDelete, "/networks/"+url.PathEscape(id), nil, nil, nil)
		},
	}
}

// --- docker:index/volume:Volume

func volumeKind() *resourceKind {
	return &resourceKind{
		token:    "docker:index/volume:Volume",
		inputs:   set("name", "driver", "driverOpts", "labels"),
		autoname: true,
		create: func(ctx context.Context, c *engineClient, in props) (string, props, error) {
			body := map[string]any{"Name": str(in, "name"), "Driver": str(in, "driver"),
				"DriverOpts": stringMap(in, "driverOpts"), "Labels": labelMap(in)}
			var created struct {
				Name       string
				Driver     string
				Mountpoint string
			}
			if err := c.do(ctx, http.MethodPost, "/volumes/create", nil, body, &created); err != nil {
				return "", nil, err
			}
			return created.Name, props{"driver": created.Driver, "mountpoint": created.Mountpoint}, nil
		},
		read: func(ctx context.Context, c *engineClient, id string, state props) (props, error) {
			var v struct {
				Name   string
				Driver string
				Labels map[string]string
			}
			if err := c.do(ctx, http.MethodGet, "/volumes/"+url.PathEscape(id), nil, nil, &v); err != nil {
				return nil, err
			}
			return props{"name": v.Name, "driver": v.Driver, "labels": readLabels(state, v.Labels)}, nil
		},
		delete: func(ctx context.Context, c *engineClient, id string, _ props) error {
			return c.do(ctx, http.MethodDelete, "/volumes/"+url.PathEscape(id), nil, nil, nil)
		},
	}
}

// --- docker:index/remoteImage:RemoteImage

// firstDigest returns the digest ("sha256:...") of the first repo digest.
func firstDigest(repoDigests []string) string {
	if len(repoDigests) == 0 {
		return ""
	}
	digest := repoDigests[0]
	if at := strings.Index(digest, "@"); at >= 0 {
		digest = digest[at+1:]
	}
	return digest
}

type imageInspect struct {
	ID          string `json:"Id"`
	RepoDigests []string
}

func remoteImageKind() *resourceKind {
	return &resourceKind{
		token:    "docker:index/remoteImage:RemoteImage",
		inputs:   set("name", "keepLocally", "forceRemove", "platform", "pullTriggers", "triggers"),
		required: []string{"name"},
		inPlace:  set("keepLocally", "forceRemove"),
		create: func(ctx context.Context, c *engineClient, in props) (string, props, error) {
			name := str(in, "name")
			if _, err := imagePath(name); err != nil {
				return "", nil, err
			}
			img, err := c.inspectImage(ctx, name)
			if err != nil {
				// Not present locally (or the lookup failed): pull it.
				if perr := c.pullImage(ctx, name, str(in, "platform")); perr != nil {
					return "", nil, perr
				}
				if img, err = c.inspectImage(ctx, name); err != nil {
					return "", nil, err
				}
			}
			return img.ID + name, props{"imageId": img.ID, "repoDigest": firstDigest(img.RepoDigests)}, nil
		},
		read: func(ctx context.Context, c *engineClient, _ string, state props) (props, error) {
			img, err := c.inspectImage(ctx, str(state, "name"))
			if err != nil {
				return nil, err
			}
			// The name may now point at another image (re-tagged by hand): refresh shows it.
			return props{"imageId": img.ID, "repoDigest": firstDigest(img.RepoDigests)}, nil
		},
		delete: func(ctx context.Context, c *engineClient, _ string, state props) error {
			if boolean(state, "keepLocally", false) {
				return nil
			}
			path, err := imagePath(str(state, "name"))
			if err != nil {
				return err
			}
			q := url.Values{"force": {strconv.FormatBool(boolean(state, "forceRemove", false))}}
			return c.do(ctx, http.MethodDelete, path, q, nil, nil)
		},
	}
}

// --- docker:index/container:Container

func containerKind() *resourceKind {
	return &resourceKind{
		token: "docker:index/container:Container",
		inputs: set("name", "image", "command", "entrypoints", "envs", "labels", "hostname", "domainname", "user",
			"workingDir", "tty", "stdinOpen", "stopSignal", "stopTimeout", "healthcheck", "ports", "publishAllPorts",
			"restart", "maxRetryCount", "memory", "memoryReservation", "memorySwap", "cpuShares", "cpus",
			"privileged", "readOnly", "networkMode", "networksAdvanced", "volumes", "logDriver", "logOpts", "dns",
			"dnsOpts", "dnsSearches", "hosts", "init", "shmSize", "sysctls", "tmpfs", "mustRun", "start",
			"removeVolumes", "destroyGraceSeconds", "capabilities", "securityOpts", "wait", "waitTimeout"),
		required: []string{"image"},
		autoname: true,
		inPlace:  set("removeVolumes", "destroyGraceSeconds", "mustRun"),
		validate: func(in props) error {
			if boolean(in, "wait", false) {
				if _, ok := in["healthcheck"].(map[string]any); !ok {
					return fmt.Errorf("wait: true needs a healthcheck")
				}
			}
			for _, v := range objects(in, "volumes") {
				if str(v, "hostPath") == "" && str(v, "volumeName") == "" {
					return fmt.Errorf("volumes: each entry needs hostPath or volumeName")
				}
			}
			if hc, ok := in["healthcheck"].(map[string]any); ok {
				for _, f := range []string{"interval", "timeout", "startPeriod", "startInterval"} {
					if _, err := parseDuration("healthcheck."+f, str(hc, f)); err != nil {
						return err
					}
				}
			}
			return nil
		},
		create: createContainer,
		read:   readContainer,
		delete: func(ctx context.Context, c *engineClient, id string, state props) error {
			grace, ok := number(state, "destroyGraceSeconds")
			if ok {
				q := url.Values{"t": {strconv.Itoa(int(grace))}}
				_ = c.do(ctx, http.MethodPost, "/containers/"+url.PathEscape(id)+"/stop", q, nil, nil)
			}
			q := url.Values{"force": {"true"}, "v": {strconv.FormatBool(boolean(state, "removeVolumes", true))}}
			return c.do(ctx, http.MethodDelete, "/containers/"+url.PathEscape(id), q, nil, nil)
		},
	}
}

const megabyte = 1024 * 1024

func createContainer(ctx context.Context, c *engineClient, in props) (string, props, error) {
	name := str(in, "name")
	config := map[string]any{
		"Image": str(in, "image"), "Hostname": str(in, "hostname"), "Domainname": str(in, "domainname"),
		"User": str(in, "user"), "WorkingDir": str(in, "workingDir"), "Tty": boolean(in, "tty", false),
		"OpenStdin": boolean(in, "stdinOpen", false), "StopSignal": str(in, "stopSignal"),
		"Env": strings_(in, "envs"), "Labels": labelMap(in),
	}
	if cmd := strings_(in, "command"); len(cmd) > 0 {
		config["Cmd"] = cmd
	}
	if ep := strings_(in, "entrypoints"); len(ep) > 0 {
		config["Entrypoint"] = ep
	}
	if t, ok := number(in, "stopTimeout"); ok {
		config["StopTimeout"] = int(t)
	}
	if hc, ok := in["healthcheck"].(map[string]any); ok {
		h := map[string]any{"Test": strings_(hc, "tests")}
		for field, key := range map[string]string{"interval": "Interval", "timeout": "Timeout",
			"startPeriod": "StartPeriod", "startInterval": "StartInterval"} {
			d, err := parseDuration("healthcheck."+field, str(hc, field))
			if err != nil {
				return "", nil, err
			}
			h[key] = d
		}
		if r, ok := number(hc, "retries"); ok {
			h["Retries"] = int(r)
		}
		config["Healthcheck"] = h
	}

	host := map[string]any{
		"Privileged": boolean(in, "privileged", false), "ReadonlyRootfs": boolean(in, "readOnly", false),
		"PublishAllPorts": boolean(in, "publishAllPorts", false), "NetworkMode": str(in, "networkMode"),
		"Dns": strings_(in, "dns"), "DnsOptions": strings_(in, "dnsOpts"), "DnsSearch": strings_(in, "dnsSearches"),
		"Sysctls": stringMap(in, "sysctls"), "Tmpfs": stringMap(in, "tmpfs"),
	}
	if b, ok := in["init"].(bool); ok {
		host["Init"] = b
	}
	if caps, ok := in["capabilities"].(map[string]any); ok {
		host["CapAdd"] = strings_(caps, "adds")
		host["CapDrop"] = strings_(caps, "drops")
	}
	host["SecurityOpt"] = strings_(in, "securityOpts")
	restart := str(in, "restart")
	if restart == "" {
		restart = "no"
	}
	policy := map[string]any{"Name": restart}
	if n, ok := number(in, "maxRetryCount"); ok {
		policy["MaximumRetryCount"] = int(n)
	}
	host["RestartPolicy"] = policy
	for field, key := range map[string]string{"memory": "Memory", "memoryReservation": "MemoryReservation",
		"memorySwap": "MemorySwap", "shmSize": "ShmSize"} {
		if mb, ok := number(in, field); ok {
			if mb < 0 {
				host[key] = int64(mb)
			} else {
				host[key] = int64(mb) * megabyte
			}
		}
	}
	if shares, ok := number(in, "cpuShares"); ok {
		host["CpuShares"] = int64(shares)
	}
	if cpus := str(in, "cpus"); cpus != "" {
		f, err := strconv.ParseFloat(cpus, 64)
		if err != nil {
			return "", nil, fmt.Errorf("cpus: %w", err)
		}
		host["NanoCpus"] = int64(f * 1e9)
	}
	if driver := str(in, "logDriver"); driver != "" {
		host["LogConfig"] = map[string]any{"Type": driver, "Config": stringMap(in, "logOpts")}
	}
	var extraHosts []string
	for _, h := range objects(in, "hosts") {
		extraHosts = append(extraHosts, str(h, "host")+":"+str(h, "ip"))
	}
	host["ExtraHosts"] = extraHosts
	exposed := map[string]any{}
	bindings := map[string][]map[string]string{}
	for _, p := range objects(in, "ports") {
		internal, _ := number(p, "internal")
		proto := str(p, "protocol")
		if proto == "" {
			proto = "tcp"
		}
		key := fmt.Sprintf("%d/%s", int(internal), proto)
		exposed[key] = map[string]any{}
		binding := map[string]string{"HostIp": str(p, "ip")}
		if ext, ok := number(p, "external"); ok {
			binding["HostPort"] = strconv.Itoa(int(ext))
		}
		bindings[key] = append(bindings[key], binding)
	}
	config["ExposedPorts"] = exposed
	host["PortBindings"] = bindings
	var binds []string
	for _, v := range objects(in, "volumes") {
		source := str(v, "hostPath")
		if source == "" {
			source = str(v, "volumeName")
		}
		bind := source + ":" + str(v, "containerPath")
		if boolean(v, "readOnly", false) {
			bind += ":ro"
		}
		binds = append(binds, bind)
	}
	host["Binds"] = binds
	config["HostConfig"] = host

	// The first network is attached at creation, the others right after.
	networks := objects(in, "networksAdvanced")
	endpoint := func(n props) map[string]any {
		e := map[string]any{"Aliases": strings_(n, "aliases")}
		if ip := str(n, "ipv4Address"); ip != "" {
			e["IPAMConfig"] = map[string]any{"IPv4Address": ip}
		}
		return e
	}
	if len(networks) > 0 {
		config["NetworkingConfig"] = map[string]any{"EndpointsConfig": map[string]any{
			str(networks[0], "name"): endpoint(networks[0])}}
	}

	var created struct {
		ID string `json:"Id"`
	}
	q := url.Values{"name": {name}}
	if err := c.do(ctx, http.MethodPost, "/containers/create", q, config, &created); err != nil {
		return "", nil, err
	}
	// If anything below fails, remove the half-made container so that the
	// next `pulumi up` can create it again under the same name.
	ok := false
	defer func() {
		if !ok {
			rm := url.Values{"force": {"true"}, "v": {"true"}}
			_ = c.do(context.WithoutCancel(ctx), http.MethodDelete, "/containers/"+url.PathEscape(created.ID), rm, nil, nil)
		}
	}()
	for _, n := range networks[min(1, len(networks)):] {
		body := map[string]any{"Container": created.ID, "EndpointConfig": endpoint(n)}
		if err := c.do(ctx, http.MethodPost, "/networks/"+url.PathEscape(str(n, "name"))+"/connect", nil, body, nil); err != nil {
			return "", nil, err
		}
	}
	if boolean(in, "start", true) {
		if err := c.do(ctx, http.MethodPost, "/containers/"+url.PathEscape(created.ID)+"/start", nil, nil, nil); err != nil {
			return "", nil, err
		}
		if boolean(in, "wait", false) {
			timeout, found := number(in, "waitTimeout")
			if !found {
				timeout = 60
			}
			var test []string
			if hc, ok := in["healthcheck"].(map[string]any); ok {
				test = strings_(hc, "tests")
			}
			if err := waitHealthy(ctx, c, created.ID, test, time.Duration(timeout)*time.Second); err != nil {
				return "", nil, fmt.Errorf("container %s: %w", name, err)
			}
		}
	}
	info, err := inspectContainer(ctx, c, created.ID)
	if err != nil {
		return "", nil, err
	}
	if boolean(in, "start", true) && boolean(in, "mustRun", true) && !info.State.Running {
		return "", nil, fmt.Errorf("container %s exited right after starting (mustRun is true)", name)
	}
	out := props{}
	if ports := objects(in, "ports"); len(ports) > 0 {
		out["ports"] = publishedPorts(ports, info)
	}
	ok = true
	return created.ID, out, nil
}

type containerInfo struct {
	Name       string
	HostConfig struct {
		Memory            int64
		MemoryReservation int64
		MemorySwap        int64
		NanoCpus          int64
		CpuShares         int64
		RestartPolicy     struct {
			Name              string
			MaximumRetryCount int
		}
	}
	RestartCount int
	State        struct {
		Running   bool
		Status    string
		StartedAt string
		Health    *struct{ Status string }
	}
	NetworkSettings struct {
		Ports map[string][]struct {
			HostIP   string `json:"HostIp"`
			HostPort string
		}
	}
}

func inspectContainer(ctx context.Context, c *engineClient, id string) (*containerInfo, error) {
	var info containerInfo
	if err := c.do(ctx, http.MethodGet, "/containers/"+url.PathEscape(id)+"/json", nil, nil, &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// Timing of waitHealthy's own probes: back off from probeFirstPause to probeMaxPause
// between failed probes; after the first pass, confirm once, exactly stableFor later.
const (
	probeFirstPause = 50 * time.Millisecond
	probeMaxPause   = 200 * time.Millisecond
	stableFor       = 500 * time.Millisecond
)

// sleepFor waits d or until ctx ends; a variable so tests can record the pauses.
var sleepFor = func(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// waitHealthy returns once the container is healthy: either its own healthcheck
// command, run by us through exec as soon as the container runs, passes and passes
// again exactly stableFor later in the same run of the container, or Docker's health
// status says "healthy", whichever comes first. Docker runs the first check only one
// `interval` after the start (engines before 25 ignore `startInterval`), so a plugin
// that is ready in 200 ms would otherwise wait the whole interval. The confirmation
// keeps a version that answers and then crashes right after its start failing here,
// as it would with Docker's check. Failing is left to Docker alone: "unhealthy" (its
// retries past the start period), a stopped container, or the timeout. A probe that
// fails or cannot run only means "not yet": probing resumes with the back-off.
func waitHealthy(ctx context.Context, c *engineClient, id string, test []string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	probe := probeCommand(test)
	pause := probeFirstPause
	var passed bool
	var startedAt string
	var restarts int
	for {
		info, err := inspectContainer(ctx, c, id)
		if err != nil {
			return err
		}
		switch {
		case info.State.Health == nil:
			return fmt.Errorf("wait: the container has no healthcheck")
		case info.State.Health.Status == "healthy":
			return nil
		case info.State.Health.Status == "unhealthy":
			return fmt.Errorf("became unhealthy")
		case !info.State.Running:
			return fmt.Errorf("stopped (%s) before becoming healthy", info.State.Status)
		}
		next := pause
		if probe != nil {
			sameRun := info.State.StartedAt == startedAt && info.RestartCount == restarts
			switch {
			case !execSucceeds(ctx, c, id, probe, time.Until(deadline)):
				passed = false
			case passed && sameRun:
				return nil
			default: // a first pass (or a pass in a new run): confirm it once, stableFor later
				passed, startedAt, restarts = true, info.State.StartedAt, info.RestartCount
				next = stableFor
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not healthy after %s (health: %s)", timeout, info.State.Health.Status)
		}
		if err := sleepFor(ctx, next); err != nil {
			return err
		}
		if next == pause {
			pause = min(2*pause, probeMaxPause)
		}
	}
}

// probeCommand turns a healthcheck test into an exec command: ["CMD", args...]
// runs args, ["CMD-SHELL", cmd] runs cmd with /bin/sh -c (as Docker does);
// anything else (NONE, inherited) has nothing to run.
func probeCommand(test []string) []string {
	switch {
	case len(test) >= 2 && test[0] == "CMD":
		return test[1:]
	case len(test) == 2 && test[0] == "CMD-SHELL":
		return []string{"/bin/sh", "-c", test[1]}
	}
	return nil
}

// execSucceeds runs cmd in the container (as its configured user, like Docker's
// own healthcheck) and reports whether it exited 0 within the budget.
func execSucceeds(ctx context.Context, c *engineClient, id string, cmd []string, budget time.Duration) bool {
	budget = min(budget, 10*time.Second)
	if budget <= 0 {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	var exec struct {
		ID string `json:"Id"`
	}
	body := map[string]any{"Cmd": cmd, "AttachStdout": false, "AttachStderr": false}
	if err := c.do(ctx, http.MethodPost, "/containers/"+id+"/exec", nil, body, &exec); err != nil {
		return false
	}
	if err := c.do(ctx, http.MethodPost, "/exec/"+exec.ID+"/start", nil, map[string]any{"Detach": true}, nil); err != nil {
		return false
	}
	for pause := 10 * time.Millisecond; ; pause = min(2*pause, 100*time.Millisecond) {
		var state struct {
			Running  bool
			ExitCode int
		}
		if err := c.do(ctx, http.MethodGet, "/exec/"+exec.ID+"/json", nil, nil, &state); err != nil {
			return false
		}
		if !state.Running {
			return state.ExitCode == 0
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(pause):
		}
	}
}

// publishedPorts returns the `ports` inputs with `external` filled in from the
// host ports Docker actually bound (it picks one when external is not given).
func publishedPorts(ports []props, info *containerInfo) []any {
	out := make([]any, 0, len(ports))
	for _, p := range ports {
		port := props{}
		for k, v := range p {
			port[k] = v
		}
		internal, _ := number(p, "internal")
		proto := str(p, "protocol")
		if proto == "" {
			proto = "tcp"
		}
		port["protocol"] = proto
		if _, set := number(p, "external"); !set {
			for _, b := range info.NetworkSettings.Ports[fmt.Sprintf("%d/%s", int(internal), proto)] {
				if b.HostPort == "" || (str(p, "ip") != "" && b.HostIP != str(p, "ip")) {
					continue
				}
				if n, err := strconv.Atoi(b.HostPort); err == nil {
					port["external"] = float64(n)
					break
				}
			}
		}
		out = append(out, port)
	}
	return out
}

// readContainer reports the settings a user can change on a running container by hand
// (`docker rename`, `docker update`: memory, CPU, restart policy), as the engine has them
// now. Published ports cannot change without a new container, and their `external` value
// is an output only, so they are not read back.
func readContainer(ctx context.Context, c *engineClient, id string, state props) (props, error) {
	info, err := inspectContainer(ctx, c, id)
	if err != nil {
		return nil, err
	}
	restart := info.HostConfig.RestartPolicy.Name
	if restart == "" {
		restart = "no"
	}
	actual := props{
		"name":              strings.TrimPrefix(info.Name, "/"),
		"restart":           restart,
		"memory":            float64(info.HostConfig.Memory / megabyte),
		"memoryReservation": float64(info.HostConfig.MemoryReservation / megabyte),
		"cpuShares":         float64(info.HostConfig.CpuShares),
	}
	if info.HostConfig.RestartPolicy.Name == "on-failure" {
		actual["maxRetryCount"] = float64(info.HostConfig.RestartPolicy.MaximumRetryCount)
	}
	if info.HostConfig.MemorySwap > 0 {
		actual["memorySwap"] = float64(info.HostConfig.MemorySwap / megabyte)
	}
	// cpus is a decimal string: keep the stored spelling ("0.50") while the value is the same.
	actual["cpus"] = strconv.FormatFloat(float64(info.HostConfig.NanoCpus)/1e9, 'f', -1, 64)
	if stored, err := strconv.ParseFloat(str(state, "cpus"), 64); err == nil && int64(stored*1e9) == info.HostConfig.NanoCpus {
		actual["cpus"] = str(state, "cpus")
	}
	if info.HostConfig.NanoCpus == 0 && str(state, "cpus") == "" {
		delete(actual, "cpus")
	}
	return actual, nil
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

// engineClient is a very small Docker Engine API client: JSON over HTTP on a
// unix socket or plain TCP. Paths carry no version prefix, so the daemon
// answers with its own current API version.
type engineClient struct {
	host string
	http *http.Client
	base string
}

// errNotFound is returned for HTTP 404 answers.
var errNotFound = errors.New("not found")

func newEngineClient(host string) (*engineClient, error) {
	if host == "" {
		host = os.Getenv("DOCKER_HOST")
	}
	if host == "" {
		host = "unix:///var/run/docker.sock"
	}
	u, err := url.Parse(host)
	if err != nil {
		return nil, fmt.Errorf("invalid docker host %q: %w", host, err)
	}
	c := &engineClient{host: host}
	switch u.Scheme {
	case "unix":
		socket := u.Path
		c.http = &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", socket)
			},
		}}
		c.base = "http://docker"
	case "tcp", "http":
		c.http = &http.Client{}
		c.base = "http://" + u.Host
	default:
		return nil, fmt.Errorf("docker host %q: only unix:// and tcp:// (without TLS) are supported by this provider", host)
	}
	return c, nil
}

type apiError struct {
	Message string `json:"message"`
}

// do sends one request. body is JSON-encoded when not nil; out, when not nil,
// receives the decoded JSON answer.
func (c *engineClient) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	resp, err := c.send(ctx, method, path, query, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func (c *engineClient) send(ctx context.Context, method, path string, query url.Values, body any) (*http.Response, error) {
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		reader = bytes.NewReader(data)
	}
	target := c.base + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, reader)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("docker engine at %s: %w", c.host, err)
	}
	if resp.StatusCode == http.StatusNotFound {
		resp.Body.Close()
		return nil, fmt.Errorf("%s %s: %w", method, path, errNotFound)
	}
	if resp.StatusCode >= 300 && resp.StatusCode != http.StatusNotModified {
		defer resp.Body.Close()
		var e apiError
		data, _ := io.ReadAll(resp.Body)
		if json.Unmarshal(data, &e) != nil || e.Message == "" {
			e.Message = strings.TrimSpace(string(data))
		}
		return nil, fmt.Errorf("docker engine: %s %s: %d %s", method, path, resp.StatusCode, e.Message)
	}
	return resp, nil
}

// imageReference is Docker's grammar for an image reference, loosely: an optional
// registry host[:port], lowercase path components, an optional tag and digest.
var imageReference = regexp.MustCompile(
	`^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*(:[0-9]+)?/)?[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*` +
		`(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@[a-z0-9]+:[a-fA-F0-9]{32,})?$`)

// imagePath is the API path of an image: the reference is checked against Docker's
// grammar and each of its components escaped, so a name can never reach another route.
func imagePath(ref string) (string, error) {
	if !imageReference.MatchString(ref) {
		return "", fmt.Errorf("%q is not a Docker image reference (name[:tag][@digest])", ref)
	}
	parts := strings.Split(ref, "/")
	for i, part := range parts {
		parts[i] = url.PathEscape(part)
	}
	return "/images/" + strings.Join(parts, "/"), nil
}

// inspectImage looks up a local image by reference.
func (c *engineClient) inspectImage(ctx context.Context, ref string) (*imageInspect, error) {
	path, err := imagePath(ref)
	if err != nil {
		return nil, err
	}
	var img imageInspect
	if err := c.do(ctx, http.MethodGet, path+"/json", nil, nil, &img); err != nil {
		return nil, err
	}
	return &img, nil
}

// pullImage pulls ref and waits for the end of the progress stream.
func (c *engineClient) pullImage(ctx context.Context, ref, platform string) error {
	if _, err := imagePath(ref); err != nil {
		return err
	}
	image, tag := splitImageRef(ref)
	q := url.Values{"fromImage": {image}, "tag": {tag}}
	if platform != "" {
		q.Set("platform", platform)
	}
	resp, err := c.send(ctx, http.MethodPost, "/images/create", q, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	scanner := bufio.NewScanner(resp.Body)
	scanner.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for scanner.Scan() {
		var msg struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(scanner.Bytes(), &msg) == nil && msg.Error != "" {
			return fmt.Errorf("pulling %s: %s", ref, msg.Error)
		}
	}
	return scanner.Err()
}

// splitImageRef splits "repo[:tag][@digest]" into the fromImage/tag pair the
// pull endpoint wants; a missing tag means "latest".
func splitImageRef(ref string) (string, string) {
	if at := strings.Index(ref, "@"); at >= 0 {
		return ref[:at], ref[at+1:]
	}
	slash := strings.LastIndex(ref, "/")
	if colon := strings.LastIndex(ref, ":"); colon > slash {
		return ref[:colon], ref[colon+1:]
	}
	return ref, "latest"
}

// parseDuration accepts Go/Docker style durations ("30s", "1m30s", "500ms");
// an empty string is zero.
func parseDuration(field, text string) (int64, error) {
	if text == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(text)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", field, err)
	}
	return int64(d), nil
}

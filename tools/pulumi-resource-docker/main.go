// Command pulumi-resource-docker is plexica-infra's own Docker resource
// provider for Pulumi, written by us.
//
// Why it exists: the upstream provider (github.com/pulumi/pulumi-docker) is a
// Terraform-bridged provider built on kreuzwerker/terraform-provider-docker,
// and the Go module proxy we can reach serves neither of those modules, so it
// cannot be built here. This provider speaks the same resource tokens and
// property names as the pulumi-docker Python SDK (docker:index/network:Network
// and so on) for the subset of resources and properties that plexica-infra
// needs, and talks to the Docker Engine HTTP API directly (no Docker SDK).
//
// Supported: Network, Volume, RemoteImage, Container (see resources.go for the
// properties). Any other resource type, or a property outside the supported
// set, fails `Check` with a message naming it, so `pulumi preview` shows it
// before anything is changed. Preview needs no Docker engine.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"google.golang.org/grpc"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// engineCheckInterval is how often the provider checks that its engine still answers.
const engineCheckInterval = 2 * time.Second

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.0.0-dev"

func main() {
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println(version)
		return
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cancelServe := make(chan bool)
	go func() {
		<-ctx.Done()
		close(cancelServe)
	}()

	// The engine passes its address as the first argument; exit when it goes. Checked every
	// 2 s, so a provider of a killed `pulumi up` (SIGKILL, OOM) does not outlive it for long.
	if args := flag.Args(); len(args) > 0 && args[0] != "" {
		hctx, hcancel := context.WithCancel(context.Background())
		go func() {
			<-hctx.Done()
			os.Exit(0)
		}()
		if err := rpcutil.Healthcheck(hctx, args[0], engineCheckInterval, hcancel); err != nil {
			fmt.Fprintf(os.Stderr, "pulumi-resource-docker: cannot watch the engine: %v\n", err)
			os.Exit(1)
		}
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancelServe,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterResourceProviderServer(srv, newProvider())
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-docker: cannot serve: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-docker: %v\n", err)
		os.Exit(1)
	}
}

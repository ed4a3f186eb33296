// Command pause is the local cluster's pod sandbox process: it holds the pod's
// namespaces open and does nothing else until it is told to stop. Built static
// (CGO_ENABLED=0) into a single-layer image by plexica_infra.localenv.cluster.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	// Reap children: as PID 1 of a pod's PID namespace we may inherit orphans.
	signal.Ignore(syscall.SIGCHLD)
	<-stop
}

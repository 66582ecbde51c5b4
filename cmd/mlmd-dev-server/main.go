// Command mlmd-dev-server serves the in-memory MLMD-compatible store of
// package mlmdserver for local development and demos:
//
//	go run ./cmd/mlmd-dev-server --addr 127.0.0.1:8080
//
// It keeps everything in memory and forgets it on exit. SIGINT or SIGTERM
// stops it gracefully.
package main

import (
	"flag"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd/mlmdserver"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "host:port to serve the MLMD gRPC API on")
	flag.Parse()

	// Subscribe before announcing the address, so that a signal sent as
	// soon as the log line appears is not lost.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)

	r, err := mlmdserver.Start(*addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("mlmd-dev-server: serving ml_metadata.MetadataStoreService on %s (in memory)", r.Addr)
	go func() {
		sig := <-sigs
		log.Printf("mlmd-dev-server: %v received, stopping", sig)
		r.Stop()
	}()
	if err := r.Wait(); err != nil {
		log.Fatalf("mlmd-dev-server: %v", err)
	}
}

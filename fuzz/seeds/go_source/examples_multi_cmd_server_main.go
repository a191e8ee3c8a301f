// Command server is the long-running half of the multi example: it prints
// its stamped version and build metadata, or serves HTTP on -addr.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
)

// Stamped at link time from golb build args (see golb.toml).
var (
	version  = "dev"
	revision = "unknown"
)

func main() {
	addr := flag.String("addr", ":8080", "address to listen on")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Printf("server %s (%s)\n", version, revision)
		return
	}
	http.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	log.Fatal(http.ListenAndServe(*addr, nil))
}

// Command migrate is the one-shot half of the multi example, shipped in the
// same image as the server: it reports what it would migrate and exits.
package main

import (
	"flag"
	"fmt"
)

var version = "dev"

func main() {
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Printf("migrate %s\n", version)
		return
	}
	fmt.Println("migrations: up to date")
}

// Command app builds in workspace mode: it imports a module that only the
// go.work file makes available.
package main

import (
	"flag"
	"fmt"

	"example.com/ws/greeter"
)

var version = "dev"

func main() {
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Printf("app %s\n", version)
		return
	}
	fmt.Println(greeter.Greeting())
}

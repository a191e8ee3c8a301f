// Command api is a service in a monorepo: its module is services/api, and it
// uses a library of the same repository through a local replace directive.
package main

import (
	"flag"
	"fmt"

	"example.com/mono/libs/greet"
)

var version = "dev"

func main() {
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Printf("api %s\n", version)
		return
	}
	fmt.Println(greet.Hello("monorepo"))
}

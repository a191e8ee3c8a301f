// Command site serves pages embedded with //go:embed and reads a config file
// that golb copies into the runtime image ([[file]] in golb.toml).
package main

import (
	"embed"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"net/http"
	"os"
)

//go:embed static
var static embed.FS

var version = "dev"

func main() {
	showVersion := flag.Bool("version", false, "print the version and exit")
	showIndex := flag.Bool("index", false, "print the embedded index page and exit")
	config := flag.String("config", "/etc/site/site.conf", "config file")
	flag.Parse()
	switch {
	case *showVersion:
		fmt.Printf("site %s\n", version)
	case *showIndex:
		page, err := fs.ReadFile(static, "static/index.html")
		if err != nil {
			log.Fatal(err)
		}
		os.Stdout.Write(page)
	default:
		if _, err := os.Stat(*config); err != nil {
			log.Fatal(err)
		}
		sub, _ := fs.Sub(static, "static")
		log.Fatal(http.ListenAndServe(":8080", http.FileServerFS(sub)))
	}
}

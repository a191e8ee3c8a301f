// Command notes keeps notes in a SQLite database through
// github.com/mattn/go-sqlite3, a driver that compiles SQLite's C sources
// with cgo: it is golb's example of a service that really needs cgo (built
// with CGO_ENABLED=0, the driver only returns an error), and so a glibc
// runtime base.
package main

import (
	"database/sql"
	"flag"
	"fmt"
	"log"
	"os"

	_ "github.com/mattn/go-sqlite3"
)

var version = "dev"

// addAndCount stores each note in the database at path and returns the
// SQLite library's version and how many notes the database holds.
func addAndCount(path string, notes []string) (string, int, error) {
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		return "", 0, err
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)`); err != nil {
		return "", 0, err
	}
	for _, note := range notes {
		if _, err := db.Exec(`INSERT INTO notes (text) VALUES (?)`, note); err != nil {
			return "", 0, err
		}
	}
	var sqliteVersion string
	var count int
	if err := db.QueryRow(`SELECT sqlite_version(), (SELECT count(*) FROM notes)`).Scan(&sqliteVersion, &count); err != nil {
		return "", 0, err
	}
	return sqliteVersion, count, nil
}

func main() {
	showVersion := flag.Bool("version", false, "print the version and exit")
	path := flag.String("db", "/tmp/notes.db", "SQLite database file")
	flag.Parse()
	if *showVersion {
		fmt.Printf("notes %s\n", version)
		return
	}
	sqliteVersion, count, err := addAndCount(*path, flag.Args())
	if err != nil {
		log.Print(err)
		os.Exit(1)
	}
	fmt.Printf("sqlite %s: %d notes in %s\n", sqliteVersion, count, *path)
}

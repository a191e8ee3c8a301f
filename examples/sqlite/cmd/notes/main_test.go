package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestNotesAreStoredBySQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.db")
	if _, _, err := addAndCount(path, []string{"first"}); err != nil {
		// Without cgo the driver is a stub whose every call fails.
		t.Fatalf("first write: %v", err)
	}
	sqliteVersion, count, err := addAndCount(path, []string{"second", "third"})
	if err != nil {
		t.Fatal(err)
	}
	if count != 3 {
		t.Errorf("count = %d, want 3 (notes kept across opens)", count)
	}
	if !strings.HasPrefix(sqliteVersion, "3.") {
		t.Errorf("sqlite_version() = %q, want 3.x", sqliteVersion)
	}
}

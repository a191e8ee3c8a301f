// Package greet is a library shared by the services of the monorepo example.
package greet

// Hello greets name.
func Hello(name string) string { return "hello, " + name + ", from libs/greet" }

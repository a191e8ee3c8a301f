// Package greeter is a second module of the go.work workspace example.
package greeter

// Greeting is what the app prints.
func Greeting() string { return "hello from a go.work workspace" }

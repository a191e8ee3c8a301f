module example.com/vendored

go 1.26.0

require (
	github.com/go-chi/chi/v5 v5.5.0
	golang.org/x/time v0.16.0
)

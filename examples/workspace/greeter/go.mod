module example.com/ws/greeter

go 1.26

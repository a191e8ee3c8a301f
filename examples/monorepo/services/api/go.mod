module example.com/mono/services/api

go 1.26

require example.com/mono/libs/greet v0.0.0

replace example.com/mono/libs/greet => ../../libs/greet

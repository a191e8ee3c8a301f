module example.com/assets

go 1.26

module example.com/newgo

go 1.26.5

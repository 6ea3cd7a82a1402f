module example.com/userbench

go 1.22

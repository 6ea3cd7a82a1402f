module example.com/profbench

go 1.22

module github.com/flexlet/flexlb/Sources/Client/Go/flexlb

go 1.19

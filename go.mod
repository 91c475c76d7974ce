module github.com/kvsmkv/kvsmkv

go 1.26.8

require (
	github.com/at-wat/ebml-go v0.19.4 // indirect
	github.com/google/go-cmp v0.7.0 // indirect
)

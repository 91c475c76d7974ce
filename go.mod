module github.com/kvsmkv/kvsmkv

go 1.26.8

require (
	github.com/at-wat/ebml-go v0.19.4
	github.com/google/go-cmp v0.7.0
	github.com/remko/go-mkvparse v0.14.0
)

module github.com/kvsmkv/kvsmkv

go 1.26.8

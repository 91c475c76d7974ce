module github.com/kvsmkv/kvsmkv/bench

go 1.24

require (
	github.com/at-wat/ebml-go v0.19.4
	github.com/aws/aws-sdk-go-v2 v1.48.0
	github.com/aws/aws-sdk-go-v2/credentials v1.21.0
	github.com/kvsmkv/kvsmkv v0.0.0
	github.com/remko/go-mkvparse v0.14.0
)

require (
	github.com/aws/aws-sdk-go-v2/internal/configsources v1.5.12 // indirect
	github.com/aws/aws-sdk-go-v2/internal/endpoints/v2 v2.8.12 // indirect
	github.com/aws/aws-sdk-go-v2/service/kinesisvideo v1.34.0 // indirect
	github.com/aws/smithy-go v1.28.9 // indirect
)

replace github.com/kvsmkv/kvsmkv => ../

package awstest

import (
	"path/filepath"
	"testing"

	"github.com/kvsmkv/kvsmkv/kvs/kvstest"
)

// EmulatorEnv points the AWS configuration of the test's process, and of
// the commands it starts, at the emulator's static test credentials and
// region, with no configuration or credentials file of the machine's.
func EmulatorEnv(t testing.TB) {
	t.Setenv("AWS_ACCESS_KEY_ID", kvstest.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", kvstest.SecretAccessKey)
	t.Setenv("AWS_REGION", kvstest.Region)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
}

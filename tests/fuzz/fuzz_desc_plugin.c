/*
 * fuzz_desc_plugin.c — a plugin whose descriptor is a mutable object, for
 * fuzz_desc.c: the harness dlopens it, finds `ferry_plugin_descriptor` with
 * dlsym, writes every field from the fuzz input (pointing only into buffers
 * it owns) and then asks ferry_plugin_open to check it. It links no
 * libferry: the harness exports its own (ENABLE_EXPORTS), as a host does.
 * Also the seed of fuzz_plugin_file's mutation mode: a real shared object.
 */
#include <ferry.h>

FERRY_API ferry_plugin_desc ferry_plugin_descriptor = {
    .magic = FERRY_PLUGIN_MAGIC,
    .abi_version = FERRY_PLUGIN_ABI_VERSION,
    .name = "fuzzdesc",
    .version = "1.0",
    .table_id = ferry_table_id,
};

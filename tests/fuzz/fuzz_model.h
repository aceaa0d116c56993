/*
 * fuzz_model.h — the input encoding of fuzz_model.c.
 *
 * An input is a sequence of operations. Each starts with an opcode byte:
 * (byte & 0x7f) % OP_COUNT selects the operation below, and bit 7 runs it on
 * the second thread. The argument bytes that follow, in order (a missing
 * byte reads as 0):
 *
 *   type_register  type(0..4), variant(0..9: 0/9 identical, 1 NULL desc,
 *                  2 NULL out, 3 other flags, 4 no release, 5 half the weak
 *                  trio, 6 empty name, 7 300-byte name, 8 NULL name)
 *   box .. lend_mut  TYPE, FLAGS                       (a new object)
 *   revoke, drop   HANDLE, FLAGS
 *   take           HANDLE, FLAGS, TYPE
 *   clone, downgrade, upgrade   HANDLE, FLAGS
 *   borrow, borrow_mut          HANDLE, TYPE, FLAGS
 *   unborrow       HANDLE
 *   check          HANDLE, TYPE (NULL: any type)
 *   kind_of        HANDLE, FLAGS
 *   ledger         TYPE, FLAGS (%4 == 1: NULL out); also checks live/report_leaks
 *   names          status byte, kind byte
 *
 * TYPE:   %8 -> 0 fuzz.Unique, 1 fuzz.Shared, 2 fuzz.NoSend, 3 fuzz.NoSync,
 *         4 NULL, 5 fuzz.Extra (no handles ever), 6 Shared, 7 NoSync
 * FLAGS:  %8 == 1 -> NULL obj/out pointer (take: obj), %8 == 2 -> NULL out of a
 *         create; bit 6 -> call the plain function, not the _at macro
 * HANDLE: a mode byte m, then (when this input has made any handle) a record
 *         byte choosing record[byte % nrecords] (every handle made so far, live
 *         or dead, in order); by m % 10: 0-5 -> that record's bits, 6 -> the
 *         null handle, 7 -> 8 more bytes as random bits (big endian), 8 -> the
 *         bits +1 (next byte odd) or -1, 9 -> next%4: 0 another tag (next|1
 *         xored into the top byte), 1 a later generation, 2 an earlier one,
 *         3 bit (next % 64) flipped.
 */
#ifndef FUZZ_MODEL_H
#define FUZZ_MODEL_H

enum {
    OP_TYPE_REGISTER,
    OP_BOX,
    OP_SHARE,
    OP_LOCAL,
    OP_LEND,
    OP_LEND_MUT,
    OP_REVOKE,
    OP_CLONE,
    OP_DOWNGRADE,
    OP_UPGRADE,
    OP_DROP,
    OP_TAKE,
    OP_BORROW,
    OP_BORROW_MUT,
    OP_UNBORROW,
    OP_CHECK,
    OP_KIND_OF,
    OP_LEDGER,
    OP_NAMES,
    OP_COUNT
};

#endif

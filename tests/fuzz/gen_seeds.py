#!/usr/bin/env python3
"""Writes the hand-made seed inputs of tests/fuzz/corpus/ (see fuzz_model.h
for the model's encoding). Run from anywhere; rewrites the files."""
import os
here = os.path.dirname(os.path.abspath(__file__))
(REG, BOX, SHARE, LOCAL, LEND, LEND_MUT, REVOKE, CLONE, DOWN, UP, DROP, TAKE,
 BORROW, BORROW_MUT, UNBORROW, CHECK, KIND_OF, LEDGER, NAMES) = range(19)
W = 0x80  # on the second thread
def rec(i, n=0):  # handle = record i
    return [0, i]
def seeds():
    yield 'register', [REG, 0, 0, REG, 1, 3, REG, 2, 7, REG, 3, 5, REG, 4, 9, REG, 0, 1, REG, 1, 2, REG, 2, 4, REG, 3, 6, REG, 0, 8]
    yield 'unique', [BOX, 0, 0, BORROW_MUT, *rec(0), 0, 0, DROP, *rec(0), 0, UNBORROW, *rec(0), BORROW, *rec(0), 0, 0, UNBORROW, *rec(0), TAKE, *rec(0), 0, 0, DROP, *rec(0), 0, KIND_OF, *rec(0), 0]
    yield 'shared', [SHARE, 1, 0, CLONE, *rec(0), 0, DOWN, *rec(1), 0, DROP, *rec(0), 0, UP, *rec(2), 0, DROP, *rec(1), 0, DROP, *rec(3), 0, UP, *rec(2), 0, CHECK, *rec(2), 1, LEDGER, 1, 0]
    yield 'local', [LOCAL, 1, 0, CLONE, *rec(0), 0, DOWN, *rec(0), 0, W | CHECK, *rec(0), 1, W | DROP, *rec(1), 0, UP, *rec(2), 0, KIND_OF, *rec(2), 0]
    yield 'lend', [LEND, 3, 0, LEND_MUT, 1, 0, BORROW, *rec(0), 3, 0, REVOKE, *rec(0), 0, BORROW_MUT, *rec(1), 1, 0, REVOKE, *rec(1), 0, UNBORROW, *rec(1), REVOKE, *rec(1), 0, W | BORROW, *rec(0), 3, 0, DROP, *rec(1), 0]
    yield 'threads', [BOX, 2, 0, W | CHECK, *rec(0), 2, SHARE, 3, 0, BORROW, *rec(1), 3, 0, W | BORROW, *rec(1), 3, 0, W | UNBORROW, *rec(1), UNBORROW, *rec(1), W | BORROW, *rec(1), 3, 0, W | DROP, *rec(1), 0, W | CLONE, *rec(1), 0]
    yield 'forged', [BOX, 1, 0, CHECK, 6, 0, DROP, 7, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, CHECK, 8, 0, 1, 0, CHECK, 9, 0, 0, 3, 0, CHECK, 9, 0, 1, 0, CHECK, 9, 0, 2, 0, CHECK, 9, 0, 3, 17, 0, DROP, *rec(0), 0, DROP, *rec(0), 0, TAKE, *rec(0), 0, 0]
    yield 'nulls', [BOX, 4, 0, BOX, 0, 1, SHARE, 1, 2, CLONE, *rec(0), 1, TAKE, 6, 0, 0, BORROW, 6, 0, 1, KIND_OF, 6, 1, LEDGER, 0, 1, NAMES, 3, 5, NAMES, 19, 8]
    yield 'wrongtype', [BOX, 0, 0, TAKE, *rec(0), 0, 1, BORROW, *rec(0), 5, 0, CHECK, *rec(0), 3, CLONE, *rec(0), 0, DOWN, *rec(0), 0, UP, *rec(0), 0, REVOKE, *rec(0), 0, BOX, 0, 0x40, SHARE, 1, 0x40, CLONE, *rec(2), 0x40, DROP, *rec(2), 0x40]
def write(d, name, data):
    os.makedirs(os.path.join(here, 'corpus', d), exist_ok=True)
    with open(os.path.join(here, 'corpus', d, name), 'wb') as f:
        f.write(bytes(data))
for name, data in seeds():
    write('model', name, data)
sigs = ['()', '(i64)', '(u32, u32, u8) -> own<img.Image>', '(own<host.Image>, f64) -> own<img.Image>',
        '(ref<img.Image>) -> u64', '(mut<img.Image>, u8)', '() -> str', '(i33) -> u8', '(own<>)',
        '(' + ', '.join(['i8'] * 17) + ')', '(ref<' + 'x' * 256 + '>)', '(bool,str,f32)->bool', '->', '(']
for i, s in enumerate(sigs):
    write('sigparse', 'sig%02d' % i, s.encode())
# desc: fuzz_desc.c reads fields from the bytes; all-zero bytes are the valid
# descriptor, and each seed changes one choice (see fuzz_desc.c).
for i in range(12):
    data = [0] * 64
    if i:
        data[i - 1] = 1 + i
    write('desc', 'desc%02d' % i, data)
write('plugin_file', 'text', b'This text file is not a shared object.\n')
write('plugin_file', 'elf_header_only', b'\x7fELF\x02\x01\x01' + bytes(9) + b'\x03\x00')
write('plugin_file', 'elf_exec', b'\x7fELF\x02\x01\x01' + bytes(9) + b'\x02\x00' + bytes(46))

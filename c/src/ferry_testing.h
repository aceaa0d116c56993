/*
 * ferry_testing.h — hooks for ferry's own tests. Not installed, not API.
 *
 * They reach states that would take hours or gigabytes to reach honestly
 * (a generation about to wrap, a full table). The symbols exist in every
 * build of libferry; nothing but the test suites calls them.
 */
#ifndef FERRY_TESTING_H
#define FERRY_TESTING_H

#include "ferry.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Moves the live handle h's slot to the last generation before wrapping and
 * returns the new bits of the same handle (h's old bits become invalid).
 * Dropping the returned handle retires the slot. Returns the null handle if h
 * is not live. Not thread-safe with other uses of h.
 */
FERRY_API ferry_handle ferry__test_age_slot(ferry_handle h);

/* Slots retired because their generation would wrap. */
FERRY_API size_t ferry__test_retired_slots(void);

/* Slot index encoded in a handle's bits. */
FERRY_API uint32_t ferry__test_slot_index(ferry_handle h);

/* Slots ever handed out fresh (the table's high-water mark). */
FERRY_API uint32_t ferry__test_slots_issued(void);

/*
 * Caps the number of slots the table may hand out fresh; 0 restores the
 * built-in maximum (2^28). Slots already issued stay usable.
 */
FERRY_API void ferry__test_set_slot_limit(uint32_t max_slots);

#ifdef __cplusplus
}
#endif

#endif /* FERRY_TESTING_H */

// Where the runtime's own records live (issue 19: no heap on Cortex-M).
//  - Desktop: Vec is std::vector, String std::string: the heap, as always.
//  - Cortex-M (ONEBIT_MCU): the containers the runtime builds while loading a model or creating an
//    interpreter (validation facts, tensor and operator records, kernel tables) take their bytes from a
//    region the caller gave (LoadOptions::memory, InterpreterOptions::arena) through PoolAllocator, a bump
//    allocator over the region installed by a PoolScope for the length of that call. malloc and new are
//    never called: outside a PoolScope an allocation stops the program (onebit_pool_fatal), and so does a
//    region too small for the records themselves (documented where the regions are given). Operator objects
//    and other records made with `new` use the class-specific operators ONEBIT_POOL_NEW_DELETE adds.
// The region is used from its start upward; a freed block goes back to the top when it is the newest, else
// to a free list that later requests of its size or less take from (best fit, no splitting: these are a
// model's few hundred records, made once).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace onebit {

#if !ONEBIT_MCU

template <typename T>
using Allocator = std::allocator<T>;
template <typename T>
using Vec = std::vector<T>;
using String = std::string;
#define ONEBIT_POOL_NEW_DELETE

#else

/// Stops the program with `why` (Cortex-M: no exceptions). Weak: a firmware may define its own.
extern "C" [[noreturn]] void onebit_pool_fatal(const char* why);

class Pool {
 public:
  Pool(void* base, size_t bytes)
      : base_(static_cast<uint8_t*>(base)), limit_(base_ + bytes), end_(limit_), top_(base_) {}
  /// `bytes` at a multiple of `align` (a power of two): a freed block it fits (best fit), else the bytes at
  /// the top.
  void* allocate(size_t bytes, size_t align) {
    const size_t size = (bytes < kUnit ? kUnit : bytes + kUnit - 1) / kUnit * kUnit;  // room for a free link
    void** best = nullptr;  // the smallest freed block that holds `size` bytes at a multiple of `align`
    for (void** f = &free_; *f != nullptr; f = link(*f)) {
      if (size_of(*f) >= size && reinterpret_cast<uintptr_t>(*f) % align == 0 &&
          (best == nullptr || size_of(*f) < size_of(*best)))
        best = f;
    }
    if (best != nullptr) {
      void* block = *best;
      *best = *link(block);
      return block;
    }
    // The block's header word (its size, and the padding before the header that its alignment took, so
    // that freeing it gives that back too), then the block at a multiple of max(align, kUnit).
    const size_t a = align > kUnit ? align : kUnit;
    const uintptr_t at = (reinterpret_cast<uintptr_t>(top_) + sizeof(size_t) + a - 1) & ~uintptr_t(a - 1);
    if (at > reinterpret_cast<uintptr_t>(end_) || size > size_t(reinterpret_cast<uintptr_t>(end_) - at) ||
        size > kSizeMask) {
      onebit_pool_fatal("onebit: the memory given for the runtime's records is too small (LoadOptions::memory or "
                        "InterpreterOptions::arena)");
    }
    void* block = reinterpret_cast<void*>(at);
    const size_t pad = at - sizeof(size_t) - reinterpret_cast<uintptr_t>(top_);
    header(block) = size | pad / kUnit << kPadShift;
    top_ = reinterpret_cast<uint8_t*>(at) + size;
    high_ = top_ > high_ ? top_ : high_;
    return block;
  }
  /// The newest block gives its bytes back to the top (and so do freed blocks just below it); another goes
  /// on the free list (linked through its first word) for a later request of its size or less.
  void deallocate(void* p) {
    uint8_t* const at = static_cast<uint8_t*>(p);
    if (at < base_ || at >= limit_) return;  // null, or another region's: not ours to reuse
    if (at + size_of(p) != top_) {
      *link(p) = free_;
      free_ = p;
      return;
    }
    top_ = start_of(p);
    for (bool lowered = true; lowered;) {  // free blocks that now end at the top join it
      lowered = false;
      for (void** f = &free_; *f != nullptr; f = link(*f)) {
        if (static_cast<uint8_t*>(*f) + size_of(*f) == top_) {
          top_ = start_of(*f);
          *f = *link(*f);
          lowered = true;
          break;
        }
      }
    }
  }
  /// No more allocations: the bytes above the top are the caller's from now on (the activations).
  void close() { end_ = top_, free_ = nullptr; }
  size_t used() const { return size_t(top_ - base_); }
  /// used(), rounded up so that base + the result is a multiple of `align` (where what follows may start).
  size_t used_aligned(size_t align) const {
    return used() + (align - size_t(reinterpret_cast<uintptr_t>(top_) % align)) % align;
  }
  size_t high_water() const { return high_ == nullptr ? 0 : size_t(high_ - base_); }

  /// The pool containers and ONEBIT_POOL_NEW_DELETE allocate from (null: none; allocation stops the program).
  static Pool*& current() {
    static Pool* pool = nullptr;
    return pool;
  }

 private:
  // A block is preceded by its header word: its size (a multiple of kUnit) and, from bit kPadShift, the
  // words of padding before the header. A freed block holds the next free block's address.
  static constexpr unsigned kPadShift = 26;
  static constexpr size_t kSizeMask = (size_t(1) << kPadShift) - 1;
  static size_t& header(void* block) { return *(static_cast<size_t*>(block) - 1); }
  static size_t size_of(void* block) { return header(block) & kSizeMask; }
  static uint8_t* start_of(void* block) {
    return static_cast<uint8_t*>(block) - sizeof(size_t) - (header(block) >> kPadShift) * kUnit;
  }
  static void** link(void* block) { return static_cast<void**>(block); }
  static constexpr size_t kUnit = sizeof(void*);
  uint8_t* base_;
  uint8_t* limit_;  // the region's end
  uint8_t* end_;    // where allocation stops (the region's end until close())
  uint8_t* top_;
  uint8_t* high_ = nullptr;
  void* free_ = nullptr;
};

/// Installs `pool` as Pool::current() for its lifetime (nests).
class PoolScope {
 public:
  explicit PoolScope(Pool& pool) : previous_(Pool::current()) { Pool::current() = &pool; }
  ~PoolScope() { Pool::current() = previous_; }
  PoolScope(const PoolScope&) = delete;
  PoolScope& operator=(const PoolScope&) = delete;

 private:
  Pool* previous_;
};

inline void* pool_allocate(size_t bytes, size_t align = alignof(std::max_align_t)) {
  Pool* pool = Pool::current();
  if (pool == nullptr) onebit_pool_fatal("onebit: an allocation outside load / create (no memory region given)");
  return pool->allocate(bytes, align);
}
inline void pool_deallocate(void* p) {
  if (Pool* pool = Pool::current()) pool->deallocate(p);
}

template <typename T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() = default;
  template <typename U>
  PoolAllocator(const PoolAllocator<U>&) {}  // NOLINT: rebinding
  T* allocate(size_t n) { return static_cast<T*>(pool_allocate(n * sizeof(T), alignof(T))); }
  void deallocate(T* p, size_t) { pool_deallocate(p); }
  template <typename U>
  bool operator==(const PoolAllocator<U>&) const { return true; }
  template <typename U>
  bool operator!=(const PoolAllocator<U>&) const { return false; }
};

template <typename T>
using Allocator = PoolAllocator<T>;
template <typename T>
using Vec = std::vector<T, PoolAllocator<T>>;
using String = std::basic_string<char, std::char_traits<char>, PoolAllocator<char>>;

/// In a class: `new` takes the object from Pool::current(), `delete` gives it back to that pool if it came
/// from there (else nothing: the region is the caller's).
#define ONEBIT_POOL_NEW_DELETE                                                          \
  static void* operator new(size_t bytes) { return ::onebit::pool_allocate(bytes); }   \
  static void operator delete(void* p) { ::onebit::pool_deallocate(p); }

#endif

}  // namespace onebit

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
  /// `bytes` at a multiple of `align`: a freed block it fits (best fit), else the bytes at the top.
  void* allocate(size_t bytes, size_t align) {
    const size_t size = (bytes + kUnit - 1) / kUnit * kUnit;
    if (align <= kUnit) {
      Header** best = nullptr;
      for (Header** h = &free_; *h != nullptr; h = &(*h)->next)
        if ((*h)->size >= size && (best == nullptr || (*h)->size < (*best)->size)) best = h;
      if (best != nullptr) {
        Header* block = *best;
        *best = block->next;
        return block + 1;
      }
    }
    // A header (the block's size), then the block at a multiple of max(align, kUnit).
    const size_t a = align > kUnit ? align : kUnit;
    const uintptr_t at = (reinterpret_cast<uintptr_t>(top_) + sizeof(Header) + a - 1) & ~uintptr_t(a - 1);
    if (at > reinterpret_cast<uintptr_t>(end_) || size > size_t(reinterpret_cast<uintptr_t>(end_) - at)) {
      onebit_pool_fatal("onebit: the memory given for the runtime's records is too small (LoadOptions::memory or "
                        "InterpreterOptions::arena)");
    }
    Header* h = reinterpret_cast<Header*>(at) - 1;
    h->size = size;
    h->next = nullptr;
    top_ = reinterpret_cast<uint8_t*>(at) + size;
    high_ = top_ > high_ ? top_ : high_;
    return reinterpret_cast<void*>(at);
  }
  /// The newest block gives its bytes back to the top (and so do freed blocks just below it); another goes
  /// on the free list for a later request of its size or less.
  void deallocate(void* p) {
    uint8_t* const at = static_cast<uint8_t*>(p);
    if (at < base_ || at >= limit_) return;  // null, or another region's: not ours to reuse
    Header* h = static_cast<Header*>(p) - 1;
    if (static_cast<uint8_t*>(p) + h->size != top_) {
      h->next = free_;
      free_ = h;
      return;
    }
    top_ = reinterpret_cast<uint8_t*>(h);
    for (bool lowered = true; lowered;) {  // free blocks that now end at the top join it
      lowered = false;
      for (Header** f = &free_; *f != nullptr; f = &(*f)->next) {
        if (reinterpret_cast<uint8_t*>(*f + 1) + (*f)->size == top_) {
          top_ = reinterpret_cast<uint8_t*>(*f);
          *f = (*f)->next;
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
  struct Header {
    size_t size;   // of the block after it, a multiple of kUnit
    Header* next;  // on the free list
  };
  static constexpr size_t kUnit = 8;
  uint8_t* base_;
  uint8_t* limit_;  // the region's end
  uint8_t* end_;    // where allocation stops (the region's end until close())
  uint8_t* top_;
  uint8_t* high_ = nullptr;
  Header* free_ = nullptr;
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
  T* allocate(size_t n) { return static_cast<T*>(pool_allocate(n * sizeof(T), alignof(T) > 8 ? alignof(T) : 8)); }
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

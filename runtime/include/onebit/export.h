// Symbol visibility of the library's API. libonebit.so is built with hidden visibility by default
// (-fvisibility=hidden -fvisibility-inlines-hidden): only what is marked ONEBIT_API (the C API functions and the
// C++ API classes Model and Interpreter) is exported, so the kernels, the operators and the FlatBuffers,
// XNNPACK and pthreadpool code inside the library stay private and cannot clash with a program's own copies.
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define ONEBIT_API __attribute__((visibility("default")))
#else
#define ONEBIT_API
#endif

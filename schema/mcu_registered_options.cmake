# Cortex-M builds (ONEBIT_MCU): rewrites flatc's onebit_generated.h (cmake -DHEADER=... -P this file) so that
# the verifier checks an operator's options table through the operator's own registration
# (rt::OpKind::verify_options, runtime/src/ops/op_table.cc) instead of one switch over every table type:
# a firmware links the verification of the options tables of the operators it registers only. flatc's switch
# stays, renamed VerifyOperatorOptionsTable (each registration calls it with its own type, which folds to one
# case). An operator the program did not register is not verified here: the runtime's validation rejects it
# (naming the accessor to register) before anything reads its options (runtime/src/validate.cc).
set(head "inline bool VerifyOperatorOptions(flatbuffers::Verifier &verifier, const void *obj, OperatorOptions type) {")
file(READ "${HEADER}" text)
string(FIND "${text}" "${head}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "mcu_registered_options.cmake: flatc's VerifyOperatorOptions not found in ${HEADER}")
endif()
string(REPLACE "${head}"
"bool VerifyRegisteredOperatorOptions(flatbuffers::Verifier &verifier, const void *obj, OperatorOptions type);
inline bool VerifyOperatorOptions(flatbuffers::Verifier &verifier, const void *obj, OperatorOptions type) {
  return VerifyRegisteredOperatorOptions(verifier, obj, type);  // (mcu_registered_options.cmake)
}

inline bool VerifyOperatorOptionsTable(flatbuffers::Verifier &verifier, const void *obj, OperatorOptions type) {"
  text "${text}")
file(WRITE "${HEADER}" "${text}")

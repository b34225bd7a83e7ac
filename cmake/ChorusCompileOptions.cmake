# chorus_strict(TARGET): the warning policy for the project's own code (-Wall -Wextra -Werror).
function(chorus_strict target)
  get_target_property(_type ${target} TYPE)
  if(_type STREQUAL "INTERFACE_LIBRARY")
    return()
  endif()
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-error=deprecated-declarations)
endfunction()

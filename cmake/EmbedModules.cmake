# Turns every file under modules/ into a byte array in one generated .cpp, looked up by relative path
# (kbz::embedded_module_files()). Re-runs when a module file changes.
function(kbz_embed_modules MODULES_DIR OUT_CPP)
  file(GLOB_RECURSE files CONFIGURE_DEPENDS RELATIVE ${MODULES_DIR} ${MODULES_DIR}/*)
  list(SORT files)
  list(TRANSFORM files PREPEND ${MODULES_DIR}/ OUTPUT_VARIABLE deps)
  add_custom_command(
    OUTPUT ${OUT_CPP}
    COMMAND ${CMAKE_COMMAND} -DMODULES_DIR=${MODULES_DIR} -DOUT_CPP=${OUT_CPP}
            -P ${CMAKE_SOURCE_DIR}/cmake/EmbedModulesScript.cmake
    DEPENDS ${CMAKE_SOURCE_DIR}/cmake/EmbedModulesScript.cmake
            ${deps}
    COMMENT "Embedding module definitions")
endfunction()

/**
 * Why a core failed, as the error its domains end with. A core fault ends every
 * domain with a dispatcher there (exit 134, reason 'core-failed'); the error says
 * which fault it was, so a domain ended because its core ran out of memory can be
 * told from one ended because a neighbour hung the core.
 *
 *   why (links, supervisor)                       error.name          error.code
 *   'out of memory: ...' (watcher or V8 limit)    CoreOutOfMemory     CORE_OUT_OF_MEMORY
 *   anything else (hung, died, protocol failing)  CoreFailed          CORE_FAILED
 */
import type { ErrorText } from './error_text.js'

/** The first words of every `why` of a core ended for memory. */
export const OUT_OF_MEMORY = 'out of memory'

export function coreFaultText(why: string): ErrorText {
  const oom = why.startsWith(OUT_OF_MEMORY)
  return {
    name: oom ? 'CoreOutOfMemory' : 'CoreFailed',
    message: why,
    code: oom ? 'CORE_OUT_OF_MEMORY' : 'CORE_FAILED',
  }
}

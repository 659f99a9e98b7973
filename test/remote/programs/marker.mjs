// Leaves proof that it ran: appends "<domainId> <core> <argv[1]>" to the file argv[0]
// (a test counts the lines: a program run twice leaves two), then ends with 0.
import { appendFileSync } from 'node:fs'

export default function main(ctx) {
  appendFileSync(ctx.argv[0], `${ctx.domainId} ${ctx.core} ${ctx.argv[1] ?? ''}\n`)
  return 0
}

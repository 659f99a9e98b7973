// A domain program: an ES module whose default export is main(ctx).
export default async function main(ctx) {
  if (ctx.argv[0] === 'serve') {
    // A long-lived domain: runs until killed (ctx.signal) or asked to stop (ctx.stopSignal).
    await new Promise((resolve) => {
      ctx.signal.addEventListener('abort', resolve)
      ctx.stopSignal.addEventListener('abort', resolve)
    })
    return 0
  }
  return ctx.argv.length + ctx.core // the exit code
}

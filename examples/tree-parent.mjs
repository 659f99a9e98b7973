// A parent domain: spawns three children, waits for each, returns how many it reaped.
export default async function main(ctx) {
  for (let i = 0; i < 3; i++) await ctx.spawn('./hello.mjs', { argv: ['x'] })
  let reaped = 0
  for (;;) {
    try {
      const child = await ctx.wait() // any child; ECHILD when none is left
      if (child !== null) reaped++
    } catch (err) {
      if (err.code === 'ECHILD') return reaped
      throw err
    }
  }
}

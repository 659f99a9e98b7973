/**
 * A tiny PNG decoder for the report rendering test: 8-bit RGB or RGBA,
 * non-interlaced (what headless Chromium writes), with the five row filters.
 */
import { inflateSync } from 'node:zlib'

export interface Image {
  width: number
  height: number
  /** RGBA, 4 bytes a pixel, row-major. */
  rgba: Uint8Array
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

export function decodePng(file: Buffer): Image {
  if (!file.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG (bad signature)')
  let at = 8
  let width = 0
  let height = 0
  let channels = 0
  const idat: Buffer[] = []
  while (at < file.length) {
    const len = file.readUInt32BE(at)
    const type = file.toString('latin1', at + 4, at + 8)
    const data = file.subarray(at + 8, at + 8 + len)
    if (type === 'IHDR') {
      width = data.readUInt32BE(0)
      height = data.readUInt32BE(4)
      const depth = data[8]
      const colour = data[9]
      const interlace = data[12]
      if (depth !== 8 || (colour !== 2 && colour !== 6) || interlace !== 0) {
        throw new Error(
          `unsupported PNG: depth ${depth}, colour type ${colour}, interlace ${interlace}`,
        )
      }
      channels = colour === 6 ? 4 : 3
    } else if (type === 'IDAT') {
      idat.push(data)
    } else if (type === 'IEND') {
      break
    }
    at += 12 + len
  }
  if (width === 0 || height === 0) throw new Error('PNG without IHDR')
  const raw = inflateSync(Buffer.concat(idat))
  const stride = width * channels
  if (raw.length !== height * (stride + 1)) throw new Error('PNG data of the wrong size')
  const px = new Uint8Array(height * stride)
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]
    const src = y * (stride + 1) + 1
    const row = y * stride
    const prev = row - stride
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? px[row + x - channels] : 0
      const b = y > 0 ? px[prev + x] : 0
      const c = x >= channels && y > 0 ? px[prev + x - channels] : 0
      let v = raw[src + x]
      if (filter === 1) v += a
      else if (filter === 2) v += b
      else if (filter === 3) v += (a + b) >> 1
      else if (filter === 4) v += paeth(a, b, c)
      else if (filter !== 0) throw new Error(`bad PNG filter ${filter}`)
      px[row + x] = v & 0xff
    }
  }
  if (channels === 4) return { width, height, rgba: px }
  const rgba = new Uint8Array(width * height * 4)
  for (let i = 0, j = 0; i < px.length; i += 3, j += 4) {
    rgba[j] = px[i]
    rgba[j + 1] = px[i + 1]
    rgba[j + 2] = px[i + 2]
    rgba[j + 3] = 255
  }
  return { width, height, rgba }
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c
  const pa = Math.abs(p - a)
  const pb = Math.abs(p - b)
  const pc = Math.abs(p - c)
  if (pa <= pb && pa <= pc) return a
  return pb <= pc ? b : c
}

/** Pixels within `tolerance` (per channel) of the colour '#rrggbb', in a rectangle. */
export function countColour(
  img: Image,
  hex: string,
  tolerance: number,
  rect = { x: 0, y: 0, w: img.width, h: img.height },
): number {
  const r = parseInt(hex.slice(1, 3), 16)
  const g = parseInt(hex.slice(3, 5), 16)
  const b = parseInt(hex.slice(5, 7), 16)
  let n = 0
  for (let y = rect.y; y < Math.min(img.height, rect.y + rect.h); y++) {
    for (let x = rect.x; x < Math.min(img.width, rect.x + rect.w); x++) {
      const i = (y * img.width + x) * 4
      if (
        Math.abs(img.rgba[i] - r) <= tolerance &&
        Math.abs(img.rgba[i + 1] - g) <= tolerance &&
        Math.abs(img.rgba[i + 2] - b) <= tolerance
      ) {
        n++
      }
    }
  }
  return n
}

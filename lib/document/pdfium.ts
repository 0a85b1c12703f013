/**
 * PDFium compiled to WebAssembly (@hyzyla/pdfium, MIT, over BSD PDFium): the raw FPDF_* calls
 * the renderer needs, typed here once. The package's wrapper renders in colour at one fixed
 * scale; the raw calls give what a fax needs: an 8-bit gray bitmap, anisotropic scaling
 * (204 × 98/196/391 dpi), an extra quarter turn, form fields drawn, and load errors that tell
 * a password-protected PDF from a damaged one.
 */
import * as fs from 'node:fs';
import { PDFiumModule } from '@hyzyla/pdfium';

/** The FPDF_* functions used here, as the Emscripten module exports them (pointers are numbers). */
export interface Pdfium {
  _FPDF_InitLibrary(): void;
  _FPDF_LoadMemDocument(data: number, size: number, password: number): number;
  _FPDF_GetLastError(): number;
  _FPDF_CloseDocument(document: number): void;
  _FPDF_GetPageCount(document: number): number;
  _FPDF_LoadPage(document: number, index: number): number;
  _FPDF_ClosePage(page: number): void;
  _FPDF_GetPageWidthF(page: number): number;
  _FPDF_GetPageHeightF(page: number): number;
  _FPDFPage_GetRotation(page: number): number;
  _FPDFBitmap_CreateEx(width: number, height: number, format: number, buffer: number, stride: number): number;
  _FPDFBitmap_Destroy(bitmap: number): void;
  _FPDFBitmap_FillRect(bitmap: number, left: number, top: number, width: number, height: number, color: number): void;
  _FPDFBitmap_GetBuffer(bitmap: number): number;
  _FPDFBitmap_GetStride(bitmap: number): number;
  _FPDF_RenderPageBitmap(
    bitmap: number,
    page: number,
    startX: number,
    startY: number,
    sizeX: number,
    sizeY: number,
    rotate: number,
    flags: number,
  ): void;
  _FPDFDOC_InitFormFillEnvironment(document: number, formInfo: number): number;
  _FPDFDOC_ExitFormFillEnvironment(form: number): void;
  _FORM_OnAfterLoadPage(page: number, form: number): void;
  _FORM_OnBeforeClosePage(page: number, form: number): void;
  _FPDF_FFLDraw(
    form: number,
    bitmap: number,
    page: number,
    startX: number,
    startY: number,
    sizeX: number,
    sizeY: number,
    rotate: number,
    flags: number,
  ): void;
  _malloc(size: number): number;
  _free(pointer: number): void;
  /** A view of the module's memory; replaced whenever the memory grows, so read it after each call. */
  HEAPU8: Uint8Array;
}

/** FPDF_GetLastError values (fpdfview.h). */
export const FPDF_ERR = Object.freeze({
  SUCCESS: 0,
  UNKNOWN: 1,
  FILE: 2,
  FORMAT: 3,
  PASSWORD: 4,
  SECURITY: 5,
  PAGE: 6,
});

/** FPDFBitmap_Gray: one byte per pixel, 0 black to 255 white. */
export const FPDF_BITMAP_GRAY = 1;
/** Render flags (fpdfview.h): draw annotations' appearances; render as for printing. */
export const FPDF_ANNOT = 0x01;
export const FPDF_PRINTING = 0x800;

/** A compiled WebAssembly module (opaque here; it can be posted to a worker). */
export type WasmModule = object & { readonly [wasmModuleBrand]: true };
declare const wasmModuleBrand: unique symbol;

/**
 * The parts of the WebAssembly JS API used here: TypeScript declares it only with the DOM
 * library, which this Node package does not load.
 */
interface WebAssemblyApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  Instance: new (module: WasmModule, imports: object) => { exports: object };
  RuntimeError: new (message?: string) => Error;
}
const wasm = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

/** Whether an error is a WebAssembly trap or abort (PDFium failing inside, not our code). */
export function isWasmRuntimeError(error: unknown): error is Error {
  return error instanceof wasm.RuntimeError;
}

/** The compiled PDFium module's file. */
export function pdfiumWasmPath(): string {
  return require.resolve('@hyzyla/pdfium/pdfium.wasm');
}

let compiled: Promise<WasmModule> | undefined;

/**
 * PDFium's WebAssembly, compiled once per thread and reused: each render worker instantiates
 * it from this Module (posted to the worker when it starts), once per document, so V8
 * compiles and optimises the 4 MB module once per process instead of once per document.
 */
export function compiledPdfium(): Promise<WasmModule> {
  compiled ??= fs.promises.readFile(pdfiumWasmPath()).then((bytes) => wasm.compile(bytes));
  // A failed read or compile is not cached: the next document tries again.
  compiled.catch(() => (compiled = undefined));
  return compiled;
}

/** An initialised PDFium instance from the compiled module. */
export async function instantiatePdfium(module: WasmModule): Promise<Pdfium> {
  const pdfium = (await PDFiumModule({
    instantiateWasm: (imports, receive) => {
      // Emscripten's callback takes (instance, module); the package's typing names them the other way.
      const done = receive as unknown as (instance: object, module: WasmModule) => void;
      // Synchronous, so a failure throws here and rejects PDFiumModule's promise instead of
      // leaving it pending. Instantiating compiled code is quick: no compiling happens.
      const instance = new wasm.Instance(module, imports);
      done(instance, module);
      return instance.exports as ReturnType<typeof receive> & object;
    },
  })) as unknown as Pdfium;
  pdfium._FPDF_InitLibrary();
  return pdfium;
}

/**
 * Writes examples/sample.pdf, the document the README's first command faxes: a two-page
 * business letter on US Letter with a letterhead, body text, an itemised table, line art
 * (a logo and a bar chart) and a gray gradient box, the things that show how a PDF becomes
 * fax pages (text edges, thin rules, gray turned into dots). The output is byte-for-byte
 * reproducible. Run: npx ts-node scripts/make-sample-pdf.ts
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';

const WIDTH = 612; // US Letter, points
const HEIGHT = 792;
const MARGIN = 72;
const black = rgb(0, 0, 0);
const gray = (level: number) => rgb(level, level, level);

interface Fonts {
  regular: PDFFont;
  bold: PDFFont;
  italic: PDFFont;
}

/** Writes text wrapped to `width`, returns the y below it. */
function paragraph(
  page: PDFPage,
  text: string,
  y: number,
  font: PDFFont,
  size = 11,
  width = WIDTH - 2 * MARGIN,
): number {
  const words = text.split(/\s+/);
  let line = '';
  const lead = size * 1.45;
  for (const word of words) {
    const candidate = line ? `${line} ${word}` : word;
    if (font.widthOfTextAtSize(candidate, size) > width && line) {
      page.drawText(line, { x: MARGIN, y, size, font, color: black });
      y -= lead;
      line = word;
    } else {
      line = candidate;
    }
  }
  if (line) page.drawText(line, { x: MARGIN, y, size, font, color: black });
  return y - lead - size * 0.6;
}

function letterhead(page: PDFPage, f: Fonts): void {
  // Logo: a stylised fax wave in a circle, line art only.
  page.drawCircle({ x: MARGIN + 22, y: HEIGHT - 70, size: 22, borderColor: black, borderWidth: 2.5 });
  page.drawSvgPath('M -14 0 C -9 -12, -4 -12, 0 0 S 9 12, 14 0', {
    x: MARGIN + 22,
    y: HEIGHT - 70,
    borderColor: black,
    borderWidth: 2.5,
  });
  page.drawText('Northwind Components Ltd.', { x: MARGIN + 56, y: HEIGHT - 66, size: 18, font: f.bold });
  page.drawText('14 Harbour Road  ·  Portsmouth PO1 3AX  ·  Tel +44 23 9200 0100  ·  Fax +44 23 9200 0199', {
    x: MARGIN + 56,
    y: HEIGHT - 82,
    size: 8.5,
    font: f.regular,
    color: gray(0.25),
  });
  page.drawLine({ start: { x: MARGIN, y: HEIGHT - 100 }, end: { x: WIDTH - MARGIN, y: HEIGHT - 100 }, thickness: 1.2 });
}

function footer(page: PDFPage, f: Fonts, n: number, of: number): void {
  page.drawLine({ start: { x: MARGIN, y: 54 }, end: { x: WIDTH - MARGIN, y: 54 }, thickness: 0.5, color: gray(0.4) });
  page.drawText('Northwind Components Ltd. · Registered in England No. 04821937 · VAT GB 284 1937 22', {
    x: MARGIN,
    y: 40,
    size: 7.5,
    font: f.regular,
    color: gray(0.3),
  });
  const label = `Page ${n} of ${of}`;
  page.drawText(label, { x: WIDTH - MARGIN - f.regular.widthOfTextAtSize(label, 8), y: 40, size: 8, font: f.regular });
}

/** A box filled with a horizontal gray ramp from white to black, drawn as thin strips. */
function gradientBox(page: PDFPage, f: Fonts, x: number, y: number, width: number, height: number): void {
  const strips = 96;
  for (let i = 0; i < strips; i++) {
    page.drawRectangle({
      x: x + (i * width) / strips,
      y,
      width: width / strips + 0.3,
      height,
      color: gray(1 - i / (strips - 1)),
    });
  }
  page.drawRectangle({ x, y, width, height, borderColor: black, borderWidth: 0.8 });
  for (const [i, label] of ['0%', '25%', '50%', '75%', '100%'].entries()) {
    const lx = x + (i * width) / 4;
    page.drawLine({ start: { x: lx, y: y - 2 }, end: { x: lx, y: y - 6 }, thickness: 0.6 });
    const w = f.regular.widthOfTextAtSize(label, 7.5);
    page.drawText(label, {
      x: Math.min(Math.max(lx - w / 2, x), x + width - w),
      y: y - 15,
      size: 7.5,
      font: f.regular,
    });
  }
}

function table(page: PDFPage, f: Fonts, top: number): number {
  const columns = [
    { title: 'Item', x: MARGIN, width: 70 },
    { title: 'Description', x: MARGIN + 70, width: 230 },
    { title: 'Qty', x: MARGIN + 300, width: 40 },
    { title: 'Unit price', x: MARGIN + 340, width: 64 },
    { title: 'Amount', x: MARGIN + 404, width: 64 },
  ];
  const rows = [
    ['NW-2210', 'Stainless hinge, 80 mm, brushed', '400', '1.85', '740.00'],
    ['NW-2214', 'Stainless hinge, 120 mm, brushed', '250', '2.40', '600.00'],
    ['NW-3105', 'Gas strut 150 N, M8 end fittings', '120', '6.75', '810.00'],
    ['NW-4420', 'Cabinet lock, keyed alike (set of 10)', '15', '38.00', '570.00'],
    ['NW-5001', 'Mounting kit, zinc plated', '300', '0.95', '285.00'],
  ];
  const rowHeight = 20;
  const right = MARGIN + 468;
  let y = top;
  page.drawRectangle({ x: MARGIN, y: y - rowHeight, width: right - MARGIN, height: rowHeight, color: gray(0.85) });
  const cell = (text: string, c: (typeof columns)[number], at: number, font: PDFFont, alignRight: boolean) => {
    const size = 9.5;
    const w = font.widthOfTextAtSize(text, size);
    page.drawText(text, { x: alignRight ? c.x + c.width - w - 5 : c.x + 5, y: at - 14, size, font });
  };
  columns.forEach((c, i) => cell(c.title, c, y, f.bold, i >= 2));
  y -= rowHeight;
  for (const row of rows) {
    row.forEach((text, i) => cell(text, columns[i]!, y, f.regular, i >= 2));
    y -= rowHeight;
  }
  // Grid: outer box, header rule, column rules, thin row rules.
  page.drawRectangle({ x: MARGIN, y, width: right - MARGIN, height: top - y, borderColor: black, borderWidth: 1 });
  page.drawLine({ start: { x: MARGIN, y: top - rowHeight }, end: { x: right, y: top - rowHeight }, thickness: 1 });
  for (let r = 2; r <= rows.length; r++) {
    const ry = top - r * rowHeight;
    page.drawLine({ start: { x: MARGIN, y: ry }, end: { x: right, y: ry }, thickness: 0.4, color: gray(0.35) });
  }
  for (const c of columns.slice(1)) page.drawLine({ start: { x: c.x, y: top }, end: { x: c.x, y }, thickness: 0.6 });
  // Totals.
  const totals = [
    ['Subtotal', '3,005.00'],
    ['VAT 20%', '601.00'],
    ['Total (GBP)', '3,606.00'],
  ];
  for (const [i, [label, value]] of totals.entries()) {
    y -= 17;
    const font = i === totals.length - 1 ? f.bold : f.regular;
    page.drawText(label!, { x: MARGIN + 300, y, size: 10, font });
    page.drawText(value!, { x: right - 5 - font.widthOfTextAtSize(value!, 10), y, size: 10, font });
  }
  page.drawLine({ start: { x: MARGIN + 300, y: y - 5 }, end: { x: right, y: y - 5 }, thickness: 0.8 });
  page.drawLine({ start: { x: MARGIN + 300, y: y - 8 }, end: { x: right, y: y - 8 }, thickness: 0.8 });
  return y - 30;
}

function barChart(page: PDFPage, f: Fonts, x: number, y: number): void {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep'];
  const values = [42, 55, 48, 61, 70, 66, 74, 81, 77];
  const width = 300;
  const height = 130;
  page.drawLine({ start: { x, y }, end: { x: x + width, y }, thickness: 1 });
  page.drawLine({ start: { x, y }, end: { x, y: y + height }, thickness: 1 });
  for (let v = 20; v <= 100; v += 20) {
    const gy = y + (v / 100) * height;
    page.drawLine({
      start: { x, y: gy },
      end: { x: x + width, y: gy },
      thickness: 0.3,
      color: gray(0.5),
      dashArray: [2, 2],
    });
    page.drawText(String(v), { x: x - 16, y: gy - 3, size: 7, font: f.regular });
  }
  const slot = width / months.length;
  months.forEach((m, i) => {
    const bx = x + i * slot + slot * 0.2;
    const h = (values[i]! / 100) * height;
    page.drawRectangle({
      x: bx,
      y,
      width: slot * 0.6,
      height: h,
      color: gray(0.55),
      borderColor: black,
      borderWidth: 0.6,
    });
    page.drawText(m, { x: bx + 1, y: y - 11, size: 7.5, font: f.regular });
  });
  page.drawText('Orders shipped on time, % (2025)', { x, y: y + height + 8, size: 9, font: f.bold });
}

/** Builds the sample letter. */
export async function makeSamplePdf(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const fixed = new Date(Date.UTC(2025, 10, 28, 9, 0, 0));
  doc.setTitle('Order confirmation NW-88412');
  doc.setAuthor('Northwind Components Ltd.');
  doc.setSubject('faxline sample document');
  doc.setCreator('faxline scripts/make-sample-pdf.ts');
  doc.setProducer('pdf-lib');
  doc.setCreationDate(fixed);
  doc.setModificationDate(fixed);
  const f: Fonts = {
    regular: await doc.embedFont(StandardFonts.Helvetica),
    bold: await doc.embedFont(StandardFonts.HelveticaBold),
    italic: await doc.embedFont(StandardFonts.TimesRomanItalic),
  };

  const one = doc.addPage([WIDTH, HEIGHT]);
  letterhead(one, f);
  let y = HEIGHT - 130;
  for (const line of [
    'Ms. Dana Whitfield',
    'Purchasing Department',
    'Acme Fabrication Inc.',
    '2200 Mission Street',
    'San Francisco, CA 94110',
  ]) {
    one.drawText(line, { x: MARGIN, y, size: 10.5, font: f.regular });
    y -= 14;
  }
  one.drawText('28 November 2025', {
    x: WIDTH - MARGIN - f.regular.widthOfTextAtSize('28 November 2025', 10.5),
    y: HEIGHT - 130,
    size: 10.5,
    font: f.regular,
  });
  y -= 16;
  one.drawText('Re: Order confirmation NW-88412 (your PO 7731-B)', { x: MARGIN, y, size: 12, font: f.bold });
  y -= 26;
  one.drawText('Dear Ms. Whitfield,', { x: MARGIN, y, size: 11, font: f.regular });
  y -= 22;
  y = paragraph(
    one,
    'Thank you for your purchase order of 24 November. We are pleased to confirm the items below at the prices agreed in our quotation Q-2025-318. All parts are in stock at our Portsmouth warehouse and will ship by sea freight on 2 December, arriving at your receiving dock in the week of 12 January.',
    y,
    f.regular,
  );
  y = table(one, f, y);
  y = paragraph(
    one,
    'Payment terms are 30 days from the date of invoice. Please quote the order number on all correspondence. The gray scale below is printed on every confirmation so that our customers can check the quality of the fax they receive: the steps should run smoothly from white to black.',
    y,
    f.regular,
  );
  gradientBox(one, f, MARGIN, y - 34, WIDTH - 2 * MARGIN, 34);
  footer(one, f, 1, 2);

  const two = doc.addPage([WIDTH, HEIGHT]);
  letterhead(two, f);
  y = HEIGHT - 136;
  two.drawText('Order NW-88412, continued', { x: MARGIN, y, size: 12, font: f.bold });
  y -= 26;
  y = paragraph(
    two,
    "Delivery. The goods travel in four pallets, shrink-wrapped and labelled with your PO number. Each pallet carries a packing list; the certificate of conformity for the stainless parts (EN 10088-2, grade 1.4301) follows by e-mail. If any item arrives damaged, please note it on the carrier's delivery receipt and let us know within five working days.",
    y,
    f.regular,
  );
  y = paragraph(
    two,
    'Service. Our on-time record for the year so far is shown in the chart. September dipped slightly while we moved the strut line to the new building; October and November are back above 80%.',
    y,
    f.regular,
  );
  barChart(two, f, MARGIN + 24, y - 150);
  y -= 200;
  y = paragraph(
    two,
    'Should you have any questions about this order, call me directly on +44 23 9200 0142 or reply to this fax on +44 23 9200 0199. We look forward to working with you again.',
    y,
    f.regular,
  );
  two.drawText('Yours sincerely,', { x: MARGIN, y, size: 11, font: f.regular });
  y -= 44;
  two.drawSvgPath('M 0 0 C 10 18, 18 -14, 30 4 S 50 10, 58 -2 C 64 -8, 72 12, 90 0', {
    x: MARGIN,
    y,
    borderColor: black,
    borderWidth: 1.2,
  });
  y -= 14;
  two.drawLine({ start: { x: MARGIN, y }, end: { x: MARGIN + 180, y }, thickness: 0.6 });
  y -= 14;
  two.drawText('Martin Okafor', { x: MARGIN, y, size: 11, font: f.bold });
  y -= 14;
  two.drawText('Customer Accounts Manager', { x: MARGIN, y, size: 10, font: f.italic });
  footer(two, f, 2, 2);

  return doc.save({ useObjectStreams: false });
}

if (require.main === module) {
  const file = path.resolve(__dirname, '../examples/sample.pdf');
  makeSamplePdf().then((bytes) => {
    fs.writeFileSync(file, bytes);
    console.log(`wrote ${file} (${bytes.length} bytes)`);
  });
}

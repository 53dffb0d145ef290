import { FormData, Response } from "undici";
import { describe, expect, it } from "vitest";
import { boundaryOf, MultipartError, parseMultipart } from "../../src/emulator/multipart.js";

async function encode(form: FormData): Promise<{ body: Buffer; type: string }> {
  const response = new Response(form);
  return {
    body: Buffer.from(await response.arrayBuffer()),
    type: response.headers.get("content-type") ?? "",
  };
}

describe("parseMultipart", () => {
  it("reads text fields and repeated file parts exactly as undici's FormData writes them", async () => {
    const form = new FormData();
    form.append("prompt", "a cat, 猫\r\nsecond line");
    form.append("intelligent_ratio", "true");
    const first = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x2d, 0x2d, 0x00, 0xff]);
    form.append("images", new Blob([first], { type: "image/png" }), "a.png");
    form.append("images", new Blob([Buffer.from("second")], { type: "image/jpeg" }), "b.jpg");
    const { body, type } = await encode(form);

    const parsed = parseMultipart(body, type);
    expect(parsed.fields).toEqual({ prompt: ["a cat, 猫\r\nsecond line"], intelligent_ratio: ["true"] });
    expect(parsed.files.map((f) => [f.name, f.filename, f.contentType])).toEqual([
      ["images", "a.png", "image/png"],
      ["images", "b.jpg", "image/jpeg"],
    ]);
    expect(parsed.files[0]?.data.equals(first)).toBe(true);
    expect(parsed.parts).toHaveLength(4);
  });

  it("takes the boundary from a quoted or bare content-type parameter", () => {
    expect(boundaryOf('multipart/form-data; boundary="abc def"')).toBe("abc def");
    expect(boundaryOf("multipart/form-data; charset=utf-8; boundary=xyz")).toBe("xyz");
    expect(boundaryOf("application/json")).toBeUndefined();
  });

  it("parses a hand-written body with a bare boundary", () => {
    const body = Buffer.from(
      '--XX\r\nContent-Disposition: form-data; name="model"\r\n\r\njimeng-4.0\r\n' +
        '--XX\r\nContent-Disposition: form-data; name="image_file_1"; filename="f.png"\r\n\r\nPNG\r\n--XX--\r\n',
    );
    const parsed = parseMultipart(body, "multipart/form-data; boundary=XX");
    expect(parsed.fields.model).toEqual(["jimeng-4.0"]);
    expect(parsed.files[0]?.data.toString()).toBe("PNG");
    expect(parsed.files[0]?.contentType).toBeUndefined();
  });

  it("throws MultipartError on a truncated body or a missing boundary", () => {
    const truncated = Buffer.from('--XX\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue');
    expect(() => parseMultipart(truncated, "multipart/form-data; boundary=XX")).toThrow(MultipartError);
    expect(() => parseMultipart(Buffer.from("x"), "multipart/form-data")).toThrow(/no boundary/);
  });
});

"""User-facing messages in Bahasa Indonesia (``id``, the default) and English (``en``).

Every message lives in one of two dicts, :data:`ID` and :data:`EN`, with identical keys:

* ``decision.<Decision>``: the verdict label;
* ``reason.<Reason>``: one plain-language sentence per reason code;
* ``error.<ErrorCode>``: one sentence per error code;
* ``request.<RequestReason>``: what the citizen asked for;
* ``measure.<name>``: a short label for each measure in :data:`photocheck.measures.MEASURES`;
* ``review.<Reason>``: for a ``review`` verdict, which limit the photo is close to and what
  the officer should look at on the card (:func:`reason_sentence` picks it);
* ``ui.<name>``: the few words the CLI and annotations put around them;
* ``legend.<mark>``: one line per mark drawn on a photo (:mod:`photocheck.annotate`);
* ``cli.<name>``: the command line's own lines (summaries, usage errors);
* ``batch.<name>``: ``photocheck batch``'s progress words, notes and usage errors (made as
  :class:`photocheck.messages.Message` where the reader's language is not known yet);
* ``page.<name>``: the counter page's own words (:mod:`photocheck.service`).

Wording rules (the glossary is ``docs/glossary-id.md``):

* everything a person reads is in the chosen language, Indonesian by default; the English
  technical detail (``error.message``, codes) stays in JSON and logs, never in an ``id`` line;
* plain words at the counter: what the officer sees on the card, not how it was computed;
* numbers are formatted for the reader only (:func:`format_number`: ``3,80`` in ``id``);
  JSON and CSV keep ``.`` and full precision;
* ``{name}`` placeholders are filled with :meth:`str.format` by the caller.

Messages are plain ASCII so that any font (annotations use Pillow's default) can draw them.
The codes themselves (``blurry``, ``file_not_found``, ...) stay English in JSON: only
what a person reads is translated.

    >>> decision_label("eligible", "en")
    'Eligible for photo replacement'
"""

from __future__ import annotations

from enum import Enum

from .errors import ErrorCode
from .schema import Decision, Reason, RequestReason


class Language(str, Enum):
    """Languages messages are available in."""

    ID = "id"  # Bahasa Indonesia
    EN = "en"  # English


DEFAULT_LANGUAGE = Language.ID.value
LANGUAGES: tuple[str, ...] = tuple(lang.value for lang in Language)

ID: dict[str, str] = {
    # Verdicts.
    "decision.eligible": "Memenuhi syarat penggantian foto",
    "decision.not_eligible": "Tidak memenuhi syarat",
    "decision.review": "Perlu pemeriksaan petugas",
    "decision.error": "Tidak dapat diperiksa",
    "decision.accepted": "Foto diterima",
    "decision.rejected": "Foto ditolak, ambil ulang",
    # Reasons.
    "reason.blurry": "Foto buram: garis wajah tidak tajam.",
    "reason.no_face": (
        "Tidak ada wajah yang terdeteksi pada gambar. Pastikan berkas ini memang foto KTP-el "
        "pemohon (bukan gambar lain) sebelum melanjutkan."
    ),
    "reason.face_occluded": (
        "Sebagian wajah tertutup, rusak, atau terkena pantulan cahaya (silau) sehingga tidak "
        "terlihat jelas."
    ),
    "reason.face_cut_off": "Wajah terpotong oleh tepi foto.",
    "reason.face_too_small": "Wajah pada foto terlalu kecil untuk dikenali.",
    "reason.underexposed": "Foto terlalu gelap sehingga wajah tidak terlihat jelas.",
    "reason.overexposed": "Foto terlalu terang sehingga sebagian wajah hilang.",
    "reason.low_contrast": (
        "Foto pudar (kontras terlalu rendah) sehingga wajah tidak terlihat jelas."
    ),
    "reason.multiple_faces": (
        "Terdeteksi lebih dari satu wajah; petugas perlu memastikan wajah pemilik KTP."
    ),
    "reason.card_damaged": (
        "Bagian foto pada kartu rusak (pantulan cahaya pada laminasi, goresan, atau "
        "lapisan terkelupas) sehingga wajah tidak terlihat jelas."
    ),
    "reason.clear_photo": (
        "Foto sudah jelas dan wajah terlihat; penggantian foto karena alasan penampilan "
        "tidak dapat dilayani."
    ),
    "reason.policy_hijab": (
        "Pemohon kini mengenakan hijab; penggantian foto dapat dilayani sesuai ketentuan."
    ),
    "reason.policy_appearance_change": (
        "Penampilan wajah pemohon berubah (misalnya karena operasi atau kecelakaan); "
        "penggantian foto dapat dilayani sesuai ketentuan."
    ),
    "reason.policy_verification_failed": (
        "Verifikasi wajah pemohon gagal di layanan; penggantian foto dapat dilayani sesuai "
        "ketentuan."
    ),
    "reason.not_frontal": (
        "Wajah tidak menghadap lurus ke kamera (kepala menoleh, menunduk, mendongak, atau "
        "miring)."
    ),
    "reason.eyes_closed": "Mata tertutup atau hampir tertutup; mata harus terbuka.",
    "reason.mouth_covered": "Mulut tertutup (masker, tangan, atau benda lain).",
    "reason.background_not_uniform": (
        "Latar belakang tidak polos: ada benda, pola, tulisan, atau warna yang berubah."
    ),
    "reason.background_colour_mismatch": (
        "Warna latar tidak sesuai: merah untuk tahun lahir ganjil, biru untuk tahun lahir genap."
    ),
    "reason.birth_year_missing": (
        "Tahun lahir tidak diisi, sehingga warna latar (merah untuk tahun ganjil, biru untuk "
        "tahun genap) belum dapat dipastikan."
    ),
    "reason.uneven_lighting": "Pencahayaan tidak merata: satu sisi wajah lebih gelap.",
    "reason.strong_shadow": "Ada bayangan kuat pada wajah.",
    "reason.meets_capture_standard": (
        "Foto memenuhi standar foto KTP-el dan dapat dicetak."
    ),
    # A review verdict: which limit the photo is close to and what to look at on the card.
    "review.blurry": (
        "Ketajaman foto berada di dekat batas buram. Lihat pada kartu garis mata, alis, dan "
        "bibir: bila kabur, foto buram."
    ),
    "review.no_face": (
        "Wajah hanya samar terdeteksi. Pastikan gambar ini foto KTP-el pemohon, lalu lihat "
        "apakah wajah pada kartu terlihat jelas."
    ),
    "review.face_occluded": (
        "Bagian wajah yang tertutup, rusak, atau silau berada di dekat batas. Lihat pada kartu: "
        "apakah kedua mata, hidung, dan mulut terlihat jelas?"
    ),
    "review.face_cut_off": (
        "Wajah hampir terpotong oleh tepi foto. Lihat pada kartu: apakah dahi sampai dagu "
        "terlihat utuh?"
    ),
    "review.face_too_small": (
        "Wajah pada foto hampir terlalu kecil. Lihat pada kartu: apakah mata dan mulut masih "
        "dapat dikenali?"
    ),
    "review.underexposed": (
        "Foto hampir terlalu gelap. Lihat pada kartu: apakah mata dan garis wajah masih "
        "terlihat?"
    ),
    "review.overexposed": (
        "Foto hampir terlalu terang. Lihat pada kartu: apakah dahi, pipi, dan hidung masih "
        "terlihat, tidak putih polos?"
    ),
    "review.low_contrast": (
        "Foto hampir terlalu pudar. Lihat pada kartu: apakah garis wajah masih dapat dibedakan "
        "dari kulit?"
    ),
    "review.multiple_faces": (
        "Terdeteksi lebih dari satu wajah. Pastikan wajah yang diperiksa (kotak tebal) adalah "
        "wajah pemilik KTP-el."
    ),
    "review.card_damaged": (
        "Kerusakan pada bagian foto kartu (silau, goresan, atau lapisan terkelupas) berada di "
        "dekat batas. Miringkan kartu di bawah lampu dan lihat: apakah wajah tetap terlihat "
        "jelas?"
    ),
    "review.not_frontal": (
        "Posisi kepala berada di dekat batas. Lihat foto: apakah wajah menghadap lurus ke "
        "kamera?"
    ),
    "review.eyes_closed": "Mata hampir tertutup. Lihat foto: apakah kedua mata terbuka?",
    "review.mouth_covered": (
        "Mulut mungkin sebagian tertutup. Lihat foto: apakah bibir terlihat jelas?"
    ),
    "review.background_not_uniform": (
        "Latar hampir tidak polos. Lihat foto: apakah ada benda, pola, atau tulisan di "
        "belakang kepala?"
    ),
    "review.background_colour_mismatch": (
        "Warna latar berada di dekat batas. Lihat foto: apakah latar jelas merah (tahun lahir "
        "ganjil) atau biru (tahun lahir genap)?"
    ),
    "review.birth_year_missing": (
        "Tahun lahir belum diisi. Isi tahun lahir pemohon lalu periksa lagi: warna latar "
        "bergantung pada tahun lahir."
    ),
    "review.uneven_lighting": (
        "Pencahayaan hampir tidak merata. Lihat foto: apakah satu sisi wajah lebih gelap?"
    ),
    "review.strong_shadow": (
        "Bayangan pada wajah berada di dekat batas. Lihat foto: apakah ada bayangan gelap di "
        "wajah?"
    ),
    # Errors.
    "error.file_not_found": "Berkas tidak ditemukan.",
    "error.unreadable": "Berkas tidak dapat dibaca (folder, izin akses, atau gangguan baca).",
    "error.empty": "Berkas kosong (0 bita).",
    "error.not_an_image": (
        "Berkas bukan gambar dalam format yang didukung (JPEG, PNG, WebP, BMP, TIFF, GIF)."
    ),
    "error.truncated": "Berkas gambar tidak lengkap (terpotong).",
    "error.corrupt": "Berkas gambar rusak dan tidak dapat dibuka.",
    "error.too_large": "Gambar terlalu besar untuk diproses.",
    "error.too_small": "Gambar terlalu kecil untuk memuat wajah yang dapat diperiksa.",
    "error.invalid_argument": "Masukan tidak valid.",
    "error.retake": (
        "Foto kartu ini buram (tulisan pada kartu pun tidak tajam): ambil ulang foto kartu "
        "dengan kamera diam dan fokus, lalu periksa lagi."
    ),
    "error.no_card": (
        "Tidak ada kartu KTP-el pada foto: foto seluruh kartu, rata, di atas alas polos."
    ),
    "error.internal": "Terjadi kesalahan internal; laporkan kepada pengelola sistem.",
    # Request reasons.
    "request.quality": "kualitas foto",
    "request.hijab": "berhijab",
    "request.appearance_change": "perubahan penampilan",
    "request.verification_failed": "verifikasi wajah gagal",
    # Measures.
    "measure.laplacian_variance": "Detail halus wajah",
    "measure.edge_blur_px": "Lebar kabur garis wajah",
    "measure.edge_blur_max_px": "Lebar kabur garis wajah, arah terburuk (goyang)",
    "measure.card_portrait_blur_px": "Lebar kabur foto yang dicetak di kartu",
    "measure.card_portrait_blur_max_px": (
        "Lebar kabur foto yang dicetak di kartu, arah terburuk (goyang)"),
    "measure.detection_confidence": "Kepastian wajah ditemukan",
    "measure.face_count": "Jumlah wajah",
    "measure.face_width_px": "Lebar wajah",
    "measure.face_outside_fraction": "Bagian wajah di luar foto",
    "measure.face_brightness": "Kecerahan wajah",
    "measure.face_clipped_fraction": "Bagian wajah putih polos (terlalu terang)",
    "measure.face_contrast": "Kontras wajah",
    "measure.eyes_occluded": "Kedua mata tertutup",
    "measure.features_occluded": "Mata, hidung, atau mulut tertutup",
    "measure.face_occluded": "Wajah tertutup",
    "measure.right_eye_occluded": "Mata kanan tertutup",
    "measure.left_eye_occluded": "Mata kiri tertutup",
    "measure.nose_occluded": "Hidung tertutup",
    "measure.mouth_occluded": "Mulut tertutup",
    "measure.head_yaw_deg": "Kepala menoleh ke samping",
    "measure.head_pitch_deg": "Kepala menunduk atau mendongak",
    "measure.head_roll_deg": "Kepala miring",
    "measure.right_eye_covered": "Peluang mata kanan tertutup",
    "measure.left_eye_covered": "Peluang mata kiri tertutup",
    "measure.nose_covered": "Peluang hidung tertutup",
    "measure.mouth_covered": "Peluang mulut tertutup",
    "measure.eyes_covered": "Peluang kedua mata tertutup",
    "measure.nose_mouth_covered": "Peluang hidung dan mulut tertutup",
    "measure.features_covered": "Rata-rata peluang mata, hidung, mulut tertutup",
    "measure.feature_covered_max": "Peluang tertinggi satu bagian wajah tertutup",
    "measure.image_short_side_px": "Sisi pendek gambar",
    "measure.right_eye_openness": "Bukaan mata kanan",
    "measure.left_eye_openness": "Bukaan mata kiri",
    "measure.eyes_openness": "Bukaan mata",
    "measure.eye_distance_px": "Jarak antarmata",
    "measure.face_width_ratio": "Lebar wajah terhadap foto",
    "measure.background_colour_spread": "Variasi warna latar",
    "measure.background_clutter": "Latar tidak polos",
    "measure.background_hue_deg": "Rona warna latar",
    "measure.background_chroma": "Kepekatan warna latar",
    "measure.background_hue_error_deg": "Selisih rona latar",
    "measure.face_lighting_ratio": "Rasio terang kedua sisi wajah",
    "measure.face_shadow_fraction": "Bayangan pada wajah",
    # Words around them.
    "ui.request": "Permohonan",
    "ui.not_assessed": "tidak dapat diukur",
    "ui.summary": "Ringkasan",
    "ui.images": "gambar",
    "ui.annotation": "gambar bertanda",
    "ui.feature_covered": "tertutup",
    "ui.feature_uncertain": "ragu",
    "ui.feature_visible": "terlihat",
    "ui.background": "Latar",
    "ui.expected": "seharusnya",
    "ui.colour.red": "merah",
    "ui.colour.blue": "biru",
    "ui.colour.other": "lain",
    "ui.code": "kode",
    "ui.unit.deg": "derajat",
    "ui.policy": "kebijakan",
    # Marks on the photo (annotation, page, report): every mark has its legend line.
    "legend.title": "Tanda",
    "legend.face_box": "Kotak tebal berwarna keputusan: wajah yang diperiksa",
    "legend.other_face": "Kotak putih tipis: wajah lain pada foto",
    "legend.landmarks": "Titik biru muda: penanda wajah (mata, alis, hidung, bibir, garis wajah)",
    "legend.covered": "Arsiran ungu kemerahan: bagian wajah yang tertutup, rusak, atau silau",
    "legend.background": "Garis kuning: bagian latar yang diukur warnanya",
    "legend.card": "Garis hijau kebiruan: tepi kartu yang ditemukan",
    "legend.portrait_area": "Garis kuning: bagian foto pada kartu yang dipotong dan diperiksa",
    "legend.features": ("Kotak di mata, hidung, dan mulut dengan keterangan: tertutup (warna "
                        "layak ganti), ragu (warna periksa), atau terlihat (warna jelas)"),
    # Command line (photocheck check, batch, report).
    "cli.usage_error": "Kesalahan perintah",
    "cli.no_images_in": "Tidak ada berkas gambar di {where}.",
    "cli.no_images": "Tidak ada berkas gambar untuk diperiksa.",
    "cli.cannot_start": (
        "Pemeriksa tidak dapat dimulai (berkas model tidak dapat dimuat). Rincian teknis ada "
        "di log."
    ),
    "cli.annotation_failed": "Gambar bertanda tidak dapat ditulis: {path}",
    "cli.cannot_create_folder": "Folder tidak dapat dibuat: {path}",
    "cli.report_written": "Laporan ditulis: {path}",
    "cli.batch_done": (
        "{done} dari {total} masukan tercatat di {out} ({judged} diperiksa sekarang, "
        "{skipped} sudah diperiksa sebelumnya)."
    ),
    "cli.batch_error_note": (
        "Baris 'Tidak dapat diperiksa' adalah berkas yang tidak dapat dinilai (lihat kolom "
        "error_code); itu hasil, bukan kegagalan proses."
    ),
    "cli.batch_stopped": (
        "Dihentikan: {remaining} masukan tersisa. Jalankan perintah yang sama lagi untuk "
        "menyelesaikan."
    ),
    "cli.batch_failed": (
        "Proses batch berhenti. Baris yang sudah tertulis tetap ada; jalankan perintah yang "
        "sama untuk melanjutkan."
    ),
    "cli.batch_note": "Catatan",
    "cli.count": "Jumlah",
    "serve.started": ("photocheck {version}: halaman loket {where}/ , dokumentasi API "
                      "{where}/docs ; {workers} proses x {checkers} pemeriksa; kunci API "
                      "{api_key}; catatan audit {audit_log}"),
    "serve.unauthenticated": ("PERINGATAN: melayani di {host} TANPA kunci API "
                              "(--allow-unauthenticated): siapa pun yang dapat menjangkau port "
                              "ini dapat memeriksa foto."),
    "serve.on": "wajib",
    "serve.off": "tidak ada",
    "cli.api_key_visible": ("PERINGATAN: --api-key memperlihatkan kunci kepada setiap pengguna "
                            "komputer ini (ps); pakai --api-key-file atau {env}."),
    # Before an error's technical detail, which is shown in English only (``--lang en``).
    "cli.detail": "Rincian teknis (bahasa Inggris) tampil dengan --lang en.",
    # Usage errors (Click's own, and ours), as `photocheck: Kesalahan perintah: ...`.
    "cli.usage": "Cara pakai",
    "cli.help_hint": "Lihat '{command} --help' untuk bantuan (dalam bahasa Inggris).",
    "cli.missing": "{name} belum diisi.",
    "cli.unknown_option": "Opsi {name} tidak dikenal.",
    "cli.did_you_mean": "Mungkin maksudnya: {choices}.",
    "cli.needs_value": "Opsi {name} perlu diberi nilai.",
    "cli.bad_choice": "Nilai untuk {name} tidak dikenal. Pilihan: {choices}.",
    "cli.bad_number": "Nilai untuk {name} harus berupa angka.",
    "cli.bad_range": "Nilai untuk {name} harus berupa angka {range}.",
    "cli.range_between": "antara {low} dan {high}",
    "cli.range_at_least": "paling sedikit {low}",
    "cli.range_at_most": "paling banyak {high}",
    "cli.bad_path": "Berkas atau folder untuk {name} tidak ada atau tidak dapat dipakai.",
    "cli.bad_value": "Nilai untuk {name} tidak sah.",
    "cli.unknown_command": "Perintah {name} tidak dikenal. Perintah yang ada: {commands}.",
    "cli.extra_arguments": "Ada argumen berlebih: {arguments}.",
    "cli.bad_usage": "Perintah tidak dapat dipahami.",
    "cli.aborted": "Dibatalkan.",
    "cli.bad_policy": (
        "Kebijakan {source} tidak dapat dimuat (nama tidak dikenal, berkas tidak ada, atau "
        "isinya rusak)."
    ),
    "cli.policy_not_of_kind": "Kebijakan {name} berjenis {kind}, bukan {profile}.",
    "cli.serve_exposed": (
        "Layanan tidak dijalankan di {host} tanpa kunci API: siapa pun di jaringan dapat "
        "mengirim dan membaca foto KTP. Beri --api-key atau {env}, pakai alamat {local}, atau"
        " --allow-unauthenticated bila jaringannya tertutup."
    ),
    # photocheck policy.
    "cli.policy": "Kebijakan",
    "cli.policy_kind": "jenis {kind}",
    "cli.policy_fitted_on": "Ditetapkan dari",
    "cli.policy_rules": (
        "Aturan: '{defect}' didahulukan, lalu '{review}', selain itu '{clean}' "
        "({clean_reason})."
    ),
    "cli.policy_reason": "Alasan",
    "cli.policy_measure": "Ukuran",
    "cli.policy_unit": "Satuan",
    "cli.policy_face": "Perlu wajah",
    "cli.policy_on_card": ("Pada foto KTP utuh, aturan {reason} membaca {card_measure} "
                           "sebagai ganti {measure}."),
    "cli.policy_decides": "Diputuskan bila",
    "cli.policy_review": "Diperiksa bila",
    "cli.yes": "ya",
    "cli.no": "tidak",
    "cli.or": "atau",
    "cli.policy_background": (
        "Warna latar: {odd} untuk tahun lahir ganjil, {even} untuk tahun lahir genap; rona "
        "tiap warna (CIELAB h_ab) {hues}, selisih paling banyak {tolerance} derajat; "
        "kepekatan warna (kroma) paling sedikit {chroma}. Tanpa tahun lahir: perlu "
        "pemeriksaan petugas."
    ),
    # photocheck batch: progress, notes on the inputs, usage errors.
    "batch.phase.judging": "memeriksa",
    "batch.phase.checking_done": "mencocokkan hasil sebelumnya",
    "batch.rate": "{rate} gambar/detik",
    "batch.eta": "sisa",
    "batch.not_images_skipped": (
        "{count} berkas dilewati karena bukan berkas gambar (menurut akhiran namanya, "
        "misalnya .txt atau .pdf)."
    ),
    "batch.tar_damaged": (
        "Arsip {path} rusak setelah {count} gambar; gambar-gambar itu tetap diperiksa."
    ),
    "batch.manifest_row_no_path": "{path}, baris {line}: kolom path kosong; baris dilewati.",
    "batch.manifest_row_repeated": (
        "{path}, baris {line}: berkas dan id sama dengan baris {first}; baris dilewati."
    ),
    "batch.manifest_id_twice": (
        "{path}, baris {line}: id '{id}' juga dipakai di baris {first} untuk berkas lain; "
        "keduanya diperiksa."
    ),
    "batch.bad_limits": "Berkas batas sumber daya tidak dapat dibaca.",
    "batch.no_such_file": "{path}: berkas tidak ada.",
    "batch.bad_zip": "Arsip zip {path} tidak dapat dibaca.",
    "batch.bad_tar": "Arsip tar {path} tidak dapat dibaca.",
    "batch.manifest_no_path": (
        "Daftar berkas (manifest) {path} tidak punya kolom 'path' (kolom yang ada: "
        "{columns})."
    ),
    "batch.bad_manifest": "Daftar berkas (manifest) {path} tidak dapat dibaca.",
    "batch.needs_fsspec": (
        "{path}: alamat URL dibaca dengan paket fsspec: pip install 'photocheck[dask]'"
    ),
    "batch.cannot_list": "Isi {path} tidak dapat didaftar.",
    "batch.unknown_output": (
        "{path}: format berkas hasil tidak dikenal; beri nama *.jsonl, *.csv atau *.parquet."
    ),
    "batch.not_a_batch_row": (
        "{path}, baris {line}, bukan baris hasil photocheck batch; pilih --out lain."
    ),
    "batch.other_columns": (
        "{path} memiliki kolom yang berbeda dari hasil photocheck batch; pilih --out lain."
    ),
    "batch.not_a_batch_file": "{path} bukan berkas hasil photocheck batch; pilih --out lain.",
    "batch.cannot_read_output": "{path} tidak dapat dibaca; pilih --out lain.",
    "batch.needs_pyarrow": "Menulis Parquet memerlukan pyarrow: pip install 'photocheck[parquet]'",
    "batch.output_locked": "Proses photocheck batch lain sedang menulis {path}.",
    "batch.needs_dask": "Mesin Dask memerlukan dask.distributed: pip install 'photocheck[dask]'",
    "batch.workers_with_scheduler": (
        "--workers tidak berlaku untuk klaster yang sudah ada (--scheduler): klaster itu "
        "punya pekerjanya sendiri."
    ),
    "batch.cannot_connect": "Tidak dapat terhubung ke penjadwal Dask {address}.",
    "batch.unknown_reason": "Alasan permohonan tidak dikenal: {reason}.",
    "batch.chunk_size": "Ukuran potongan (--chunk-size) paling sedikit 1.",
    "batch.other_judgement": (
        "{path} berisi hasil kebijakan {name} {version} untuk alasan {earlier}; proses ini "
        "memakai kebijakan {policy} {policy_version} untuk alasan {reason}. Pakai --policy "
        "dan --reason yang sama untuk melanjutkan, atau --out lain."
    ),
    # The counter page (photocheck serve).
    "page.title": "Pemeriksaan Foto KTP-el",
    "page.subtitle": "Apakah foto pada KTP-el memenuhi syarat untuk diganti?",
    "page.language": "Bahasa",
    "page.step_photo": "1. Foto KTP-el",
    "page.drop": "Pilih foto atau tarik ke sini",
    "page.formats": "JPEG, PNG, WebP, BMP, TIFF atau GIF",
    "page.camera_open": "Ambil dari kamera",
    "page.camera_shoot": "Ambil foto",
    "page.camera_close": "Tutup kamera",
    "page.camera_unavailable": (
        "Kamera tidak dapat dipakai: buka halaman melalui https atau localhost dan izinkan "
        "akses kamera."
    ),
    "page.step_reason": "2. Alasan permohonan",
    "page.mode_existing": "Periksa foto/kartu lama",
    "page.mode_new": "Periksa foto baru",
    "page.birth_year": "2. Tahun lahir pemilik",
    "page.birth_year_hint": (
        "Latar foto KTP-el: merah untuk tahun lahir ganjil, biru untuk tahun lahir genap."
    ),
    "page.waiting": "Belum ada foto",
    "page.waiting_hint": "Pilih, tarik, atau ambil foto KTP-el untuk memeriksanya.",
    "page.checking": "Memeriksa...",
    "page.checked_in": "Diperiksa dalam",
    "page.reasons": "Alasan",
    "page.measures": "Ukuran utama",
    "page.measure": "Ukuran",
    "page.value": "Nilai",
    "page.annotated": "Foto dengan tanda",
    "page.annotated_caption": "Keterangan tanda pada foto:",
    "page.print": "Cetak slip keputusan",
    "page.clear": "Bersihkan",
    "page.api_key": "Kunci API",
    "page.api_key_hint": "Layanan ini memerlukan kunci API. Tanyakan kepada pengelola sistem.",
    "page.api_key_save": "Gunakan kunci",
    "page.api_key_wrong": "Kunci API salah atau belum diisi.",
    "page.busy": "Layanan sedang sibuk memeriksa foto lain. Coba lagi sebentar lagi.",
    "page.upload_stalled": "Pengiriman foto terhenti atau terlalu lambat. Coba kirim lagi.",
    "page.file_too_large": "Berkas terlalu besar untuk diunggah. Batas:",
    "page.network_error": (
        "Layanan tidak dapat dihubungi. Periksa apakah photocheck serve masih berjalan."
    ),
    "page.privacy": (
        "Foto diperiksa oleh layanan ini saja: tidak ada yang dikirim ke internet dan foto "
        "tidak disimpan."
    ),
    "page.slip_title": "Slip Hasil Pemeriksaan Foto KTP-el",
    "page.slip_date": "Tanggal dan waktu",
    "page.slip_decision": "Keputusan",
    "page.slip_policy": "Kebijakan",
    "page.slip_software": "Perangkat lunak",
    "page.slip_photo": "Foto yang diperiksa",
    "page.slip_note": (
        "Hasil pemeriksaan otomatis ini membantu petugas; keputusan akhir ada pada petugas."
    ),
    "page.slip_officer": "Petugas",
    "page.slip_applicant": "Pemohon",
    "page.slip_name": "Nama pemohon",
    "page.slip_nik": "NIK atau nomor registrasi",
    "page.slip_fields_hint": (
        "Diketik di sini hanya untuk dicetak pada slip: tidak dikirim ke layanan dan tidak "
        "disimpan."
    ),
    "page.slip_sha256": "Sidik berkas foto (SHA-256)",
    "page.slip_timezone": "WIB",
    "page.confirm_portrait": "Saya sudah memastikan gambar ini adalah foto KTP-el pemohon.",
    "page.confirm_needed": (
        "Tidak ada wajah yang terdeteksi. Pastikan dahulu gambar ini foto KTP-el pemohon dan "
        "centang konfirmasi sebelum mencetak slip."
    ),
    "page.no_slip": (
        "Gambar ini tidak dapat diperiksa, jadi tidak ada slip. Perbaiki berkasnya lalu coba "
        "lagi."
    ),
    "page.review_hint": (
        "Foto berada di dekat batas ketentuan: lihat kartu seperti yang disarankan, lalu "
        "petugas memutuskan."
    ),
    "page.error_code": "Kode untuk pengelola sistem",
}

EN: dict[str, str] = {
    # Verdicts.
    "decision.eligible": "Eligible for photo replacement",
    "decision.not_eligible": "Not eligible",
    "decision.review": "Needs officer review",
    "decision.error": "Could not be checked",
    "decision.accepted": "Photo accepted",
    "decision.rejected": "Photo rejected, take it again",
    # Reasons.
    "reason.blurry": "The photo is blurry: the lines of the face are not sharp.",
    "reason.no_face": (
        "No face was detected in the image. Make sure this file really is the applicant's "
        "KTP-el photo (not another picture) before going on."
    ),
    "reason.face_occluded": (
        "Part of the face is covered, damaged or glared, so it is not clearly visible."
    ),
    "reason.face_cut_off": "The face is cut off by the edge of the photo.",
    "reason.face_too_small": "The face in the photo is too small to recognise.",
    "reason.underexposed": "The photo is too dark for the face to be clearly visible.",
    "reason.overexposed": "The photo is too bright: part of the face is washed out.",
    "reason.low_contrast": (
        "The photo is faded (contrast too low), so the face is not clearly visible."
    ),
    "reason.multiple_faces": (
        "More than one face was detected; an officer must confirm the card holder's face."
    ),
    "reason.card_damaged": (
        "The photo area of the card is damaged (glare on the laminate, scratches or peeling), "
        "so the face is not clearly visible."
    ),
    "reason.clear_photo": (
        "The photo is sharp and the face clearly visible; replacement for reasons of "
        "appearance cannot be granted."
    ),
    "reason.policy_hijab": (
        "The applicant now wears a hijab; replacement may be granted under the policy."
    ),
    "reason.policy_appearance_change": (
        "The applicant's appearance has changed (for example after surgery or an accident); "
        "replacement may be granted under the policy."
    ),
    "reason.policy_verification_failed": (
        "Face verification of the applicant failed at a service; replacement may be granted "
        "under the policy."
    ),
    "reason.not_frontal": (
        "The face does not look straight into the camera (head turned, tilted, raised or "
        "lowered)."
    ),
    "reason.eyes_closed": "The eyes are closed or nearly closed; they must be open.",
    "reason.mouth_covered": "The mouth is covered (a mask, a hand or another object).",
    "reason.background_not_uniform": (
        "The background is not plain: objects, a pattern, text or a change of colour."
    ),
    "reason.background_colour_mismatch": (
        "Wrong background colour: red for an odd birth year, blue for an even birth year."
    ),
    "reason.birth_year_missing": (
        "No birth year was given, so the background colour (red for an odd year, blue for an "
        "even year) could not be confirmed."
    ),
    "reason.uneven_lighting": "Uneven lighting: one side of the face is darker.",
    "reason.strong_shadow": "There is a strong shadow on the face.",
    "reason.meets_capture_standard": (
        "The photo meets the KTP-el photo standard and can be printed."
    ),
    # A review verdict: which limit the photo is close to and what to look at on the card.
    "review.blurry": (
        "The sharpness is close to the blur limit. Look at the eye line, eyebrows and lips on "
        "the card: if they are soft, the photo is blurry."
    ),
    "review.no_face": (
        "A face was only faintly detected. Make sure this is the applicant's KTP-el photo, then "
        "look whether the face on the card is clearly visible."
    ),
    "review.face_occluded": (
        "The covered, damaged or glared part of the face is close to the limit. Look at the "
        "card: are both eyes, the nose and the mouth clearly visible?"
    ),
    "review.face_cut_off": (
        "The face is nearly cut off by the edge of the photo. Look at the card: is the face "
        "whole from forehead to chin?"
    ),
    "review.face_too_small": (
        "The face in the photo is nearly too small. Look at the card: can the eyes and mouth "
        "still be made out?"
    ),
    "review.underexposed": (
        "The photo is nearly too dark. Look at the card: are the eyes and the lines of the face "
        "still visible?"
    ),
    "review.overexposed": (
        "The photo is nearly too bright. Look at the card: are the forehead, cheeks and nose "
        "still visible, not plain white?"
    ),
    "review.low_contrast": (
        "The photo is nearly too faded. Look at the card: can the lines of the face still be "
        "told apart from the skin?"
    ),
    "review.multiple_faces": (
        "More than one face was detected. Make sure the face checked (thick box) is the card "
        "holder's."
    ),
    "review.card_damaged": (
        "Damage on the card's photo area (glare, scratches or peeling) is close to the limit. "
        "Tilt the card under a lamp and look: is the face still clearly visible?"
    ),
    "review.not_frontal": (
        "The head position is close to the limit. Look at the photo: does the face look "
        "straight into the camera?"
    ),
    "review.eyes_closed": "The eyes are nearly closed. Look at the photo: are both eyes open?",
    "review.mouth_covered": (
        "The mouth may be partly covered. Look at the photo: are the lips clearly visible?"
    ),
    "review.background_not_uniform": (
        "The background is nearly not plain. Look at the photo: are there objects, a pattern "
        "or text behind the head?"
    ),
    "review.background_colour_mismatch": (
        "The background colour is close to the limit. Look at the photo: is it clearly red (odd "
        "birth year) or blue (even birth year)?"
    ),
    "review.birth_year_missing": (
        "No birth year yet. Enter the applicant's birth year and check again: the background "
        "colour depends on it."
    ),
    "review.uneven_lighting": (
        "The lighting is nearly uneven. Look at the photo: is one side of the face darker?"
    ),
    "review.strong_shadow": (
        "The shadow on the face is close to the limit. Look at the photo: is there a dark "
        "shadow on the face?"
    ),
    # Errors.
    "error.file_not_found": "File not found.",
    "error.unreadable": "The file cannot be read (a folder, permissions, or a read error).",
    "error.empty": "The file is empty (0 bytes).",
    "error.not_an_image": (
        "The file is not an image in a supported format (JPEG, PNG, WebP, BMP, TIFF, GIF)."
    ),
    "error.truncated": "The image file is incomplete (truncated).",
    "error.corrupt": "The image file is damaged and cannot be opened.",
    "error.too_large": "The image is too large to process.",
    "error.too_small": "The image is too small to hold a face that can be checked.",
    "error.invalid_argument": "Invalid input.",
    "error.retake": (
        "This shot of the card is blurred (even the card's text is not sharp): take the "
        "photo of the card again, camera steady and in focus, and check again."
    ),
    "error.no_card": (
        "No KTP-el card was found in the photo: photograph the whole card, flat, on a plain "
        "surface."
    ),
    "error.internal": "Internal error; please report it to the system administrator.",
    # Request reasons.
    "request.quality": "photo quality",
    "request.hijab": "now wears a hijab",
    "request.appearance_change": "change in appearance",
    "request.verification_failed": "face verification failed",
    # Measures.
    "measure.laplacian_variance": "Fine detail of the face",
    "measure.edge_blur_px": "Blur width of the face lines",
    "measure.edge_blur_max_px": "Blur width of the face lines, worst direction (shake)",
    "measure.card_portrait_blur_px": "Blur width of the photo printed on the card",
    "measure.card_portrait_blur_max_px": (
        "Blur width of the photo printed on the card, worst direction (shake)"),
    "measure.detection_confidence": "Certainty that a face was found",
    "measure.face_count": "Face count",
    "measure.face_width_px": "Face width",
    "measure.face_outside_fraction": "Face outside the frame",
    "measure.face_brightness": "Face brightness",
    "measure.face_clipped_fraction": "Face washed out",
    "measure.face_contrast": "Face contrast",
    "measure.eyes_occluded": "Both eyes covered",
    "measure.features_occluded": "Eyes, nose or mouth covered",
    "measure.face_occluded": "Face covered",
    "measure.right_eye_occluded": "Right eye covered",
    "measure.left_eye_occluded": "Left eye covered",
    "measure.nose_occluded": "Nose covered",
    "measure.mouth_occluded": "Mouth covered",
    "measure.head_yaw_deg": "Head turned sideways",
    "measure.head_pitch_deg": "Head lowered or raised",
    "measure.head_roll_deg": "Head tilted",
    "measure.right_eye_covered": "Probability the right eye is covered",
    "measure.left_eye_covered": "Probability the left eye is covered",
    "measure.nose_covered": "Probability the nose is covered",
    "measure.mouth_covered": "Probability the mouth is covered",
    "measure.eyes_covered": "Probability both eyes are covered",
    "measure.nose_mouth_covered": "Probability nose and mouth are covered",
    "measure.features_covered": "Mean probability eyes, nose, mouth are covered",
    "measure.feature_covered_max": "Highest probability one feature is covered",
    "measure.image_short_side_px": "Shorter side of the image",
    "measure.right_eye_openness": "Right eye openness",
    "measure.left_eye_openness": "Left eye openness",
    "measure.eyes_openness": "Eye openness",
    "measure.eye_distance_px": "Eye distance",
    "measure.face_width_ratio": "Face width in the frame",
    "measure.background_colour_spread": "Background colour variation",
    "measure.background_clutter": "Background clutter",
    "measure.background_hue_deg": "Background hue",
    "measure.background_chroma": "Background chroma",
    "measure.background_hue_error_deg": "Background hue difference",
    "measure.face_lighting_ratio": "Face halves brightness ratio",
    "measure.face_shadow_fraction": "Shadow on the face",
    # Words around them.
    "ui.request": "Request",
    "ui.not_assessed": "not assessed",
    "ui.summary": "Summary",
    "ui.images": "images",
    "ui.annotation": "marked picture",
    "ui.feature_covered": "covered",
    "ui.feature_uncertain": "unsure",
    "ui.feature_visible": "visible",
    "ui.background": "Background",
    "ui.expected": "expected",
    "ui.colour.red": "red",
    "ui.colour.blue": "blue",
    "ui.colour.other": "other",
    "ui.code": "code",
    "ui.unit.deg": "deg",
    "ui.policy": "policy",
    # Marks on the photo (annotation, page, report): every mark has its legend line.
    "legend.title": "Marks",
    "legend.face_box": "Thick box in the decision's colour: the face checked",
    "legend.other_face": "Thin white box: another face in the photo",
    "legend.landmarks": "Light blue dots: face landmarks (eyes, brows, nose, lips, face outline)",
    "legend.covered": (
        "Reddish purple shading: parts of the face that are covered, damaged or glared"
    ),
    "legend.background": "Yellow line: the background area whose colour was measured",
    "legend.card": "Bluish green line: the edge of the card that was found",
    "legend.portrait_area": "Yellow line: the card's photo area, cut out and checked",
    "legend.features": ("Boxes on the eyes, nose and mouth, with their verdict: covered "
                        "(eligible colour), unsure (review colour) or visible (clear colour)"),
    # Command line (photocheck check, batch, report).
    "cli.usage_error": "Usage error",
    "cli.no_images_in": "No image files in {where}.",
    "cli.no_images": "No image files to check.",
    "cli.cannot_start": (
        "The checker cannot start (the model files cannot be loaded). The technical detail is "
        "in the log."
    ),
    "cli.annotation_failed": "The marked picture cannot be written: {path}",
    "cli.cannot_create_folder": "The folder cannot be created: {path}",
    "cli.report_written": "Report written: {path}",
    "cli.batch_done": (
        "{done} of {total} inputs in {out} ({judged} judged now, {skipped} already done)."
    ),
    "cli.batch_error_note": (
        "'Could not be checked' (error) rows are inputs that could not be judged (see the "
        "error_code column); they are results, not a failed run."
    ),
    "cli.batch_stopped": (
        "Stopped: {remaining} inputs left; run the same command again to finish."
    ),
    "cli.batch_failed": (
        "The batch stopped. Rows written so far are kept; rerun the same command to resume."
    ),
    "cli.batch_note": "Note",
    "cli.count": "Count",
    "serve.started": ("photocheck {version}: counter page {where}/ , API docs {where}/docs ; "
                      "{workers} process(es) x {checkers} checker(s); API key {api_key}; "
                      "audit log {audit_log}"),
    "serve.unauthenticated": ("WARNING: serving on {host} WITHOUT an API key "
                              "(--allow-unauthenticated): anyone who can reach this port can "
                              "check photos."),
    "serve.on": "required",
    "serve.off": "off",
    "cli.api_key_visible": ("WARNING: --api-key shows the key to every user of this machine "
                            "(ps); use --api-key-file or {env} instead."),
    "cli.detail": "Technical detail:",
    # Usage errors (Click's own, and ours), as `photocheck: Usage error: ...`.
    "cli.usage": "Usage",
    "cli.help_hint": "Try '{command} --help' for help.",
    "cli.missing": "Missing {name}.",
    "cli.unknown_option": "No such option: {name}.",
    "cli.did_you_mean": "Did you mean: {choices}?",
    "cli.needs_value": "Option {name} requires a value.",
    "cli.bad_choice": "Invalid value for {name}. Choose one of: {choices}.",
    "cli.bad_number": "The value of {name} must be a number.",
    "cli.bad_range": "The value of {name} must be a number {range}.",
    "cli.range_between": "between {low} and {high}",
    "cli.range_at_least": "at least {low}",
    "cli.range_at_most": "at most {high}",
    "cli.bad_path": "The file or folder for {name} does not exist or cannot be used.",
    "cli.bad_value": "Invalid value for {name}.",
    "cli.unknown_command": "No such command {name}. Commands: {commands}.",
    "cli.extra_arguments": "Unexpected extra arguments: {arguments}.",
    "cli.bad_usage": "The command cannot be understood.",
    "cli.aborted": "Aborted.",
    "cli.bad_policy": (
        "The policy {source} cannot be loaded (unknown name, missing file, or broken "
        "content)."
    ),
    "cli.policy_not_of_kind": "Policy {name} is a {kind} policy, not {profile}.",
    "cli.serve_exposed": (
        "Refusing to serve on {host} without an API key: anyone on the network could send and"
        " read KTP photos. Set --api-key or {env}, bind {local}, or pass "
        "--allow-unauthenticated if the network is closed."
    ),
    # photocheck policy.
    "cli.policy": "Policy",
    "cli.policy_kind": "kind {kind}",
    "cli.policy_fitted_on": "Fitted on",
    "cli.policy_rules": (
        "Rules: '{defect}' first, then '{review}', otherwise '{clean}' ({clean_reason})."
    ),
    "cli.policy_reason": "Reason",
    "cli.policy_measure": "Measure",
    "cli.policy_unit": "Unit",
    "cli.policy_face": "Needs a face",
    "cli.policy_on_card": ("On a photo of a whole card, the {reason} rule reads {card_measure} "
                           "instead of {measure}."),
    "cli.policy_decides": "Decided when",
    "cli.policy_review": "Review when",
    "cli.yes": "yes",
    "cli.no": "no",
    "cli.or": "or",
    "cli.policy_background": (
        "Background colour: {odd} for an odd birth year, {even} for an even one; class hues "
        "(CIELAB h_ab) {hues}, within {tolerance} deg; chroma at least {chroma}. Without a "
        "birth year: review."
    ),
    # photocheck batch: progress, notes on the inputs, usage errors.
    "batch.phase.judging": "judging",
    "batch.phase.checking_done": "checking done inputs",
    "batch.rate": "{rate} img/s",
    "batch.eta": "ETA",
    "batch.not_images_skipped": (
        "{count} files skipped: not image files (by their name's suffix, e.g. .txt or .pdf)."
    ),
    "batch.tar_damaged": "The archive {path} is damaged after {count} images; those are checked.",
    "batch.manifest_row_no_path": "{path}, line {line}: no path; row skipped.",
    "batch.manifest_row_repeated": (
        "{path}, line {line}: the same file and id as line {first}; row skipped."
    ),
    "batch.manifest_id_twice": (
        "{path}, line {line}: id '{id}' also on line {first} for another file; both are "
        "checked."
    ),
    "batch.bad_limits": "The limits file cannot be read.",
    "batch.no_such_file": "{path}: no such file.",
    "batch.bad_zip": "Cannot read the zip archive {path}.",
    "batch.bad_tar": "Cannot read the tar archive {path}.",
    "batch.manifest_no_path": "The manifest {path} has no 'path' column (columns: {columns}).",
    "batch.bad_manifest": "Cannot read the manifest {path}.",
    "batch.needs_fsspec": "{path}: URLs are read with fsspec: pip install 'photocheck[dask]'",
    "batch.cannot_list": "Cannot list {path}.",
    "batch.unknown_output": "{path}: unknown output format; name it *.jsonl, *.csv or *.parquet.",
    "batch.not_a_batch_row": (
        "{path}, line {line}, is not a photocheck batch row; choose another --out."
    ),
    "batch.other_columns": (
        "{path} has other columns than photocheck batch writes; choose another --out."
    ),
    "batch.not_a_batch_file": "{path} is not a photocheck batch file; choose another --out.",
    "batch.cannot_read_output": "Cannot read {path}; choose another --out.",
    "batch.needs_pyarrow": "Writing Parquet needs pyarrow: pip install 'photocheck[parquet]'",
    "batch.output_locked": "Another photocheck batch is writing {path}.",
    "batch.needs_dask": "The Dask engine needs dask.distributed: pip install 'photocheck[dask]'",
    "batch.workers_with_scheduler": (
        "--workers does not apply to an existing cluster (--scheduler): the cluster has its "
        "own workers."
    ),
    "batch.cannot_connect": "Cannot connect to the Dask scheduler {address}.",
    "batch.unknown_reason": "Unknown request reason: {reason}.",
    "batch.chunk_size": "The chunk size (--chunk-size) must be at least 1.",
    "batch.other_judgement": (
        "{path} holds results of policy {name} {version} for reason {earlier}; this run uses "
        "policy {policy} {policy_version} for reason {reason}. Use the same --policy and "
        "--reason to resume, or another --out."
    ),
    # The counter page (photocheck serve).
    "page.title": "KTP-el Photo Check",
    "page.subtitle": "Does the photo on the KTP-el card qualify for replacement?",
    "page.language": "Language",
    "page.step_photo": "1. KTP-el photo",
    "page.drop": "Choose a photo or drop it here",
    "page.formats": "JPEG, PNG, WebP, BMP, TIFF or GIF",
    "page.camera_open": "Take from camera",
    "page.camera_shoot": "Take photo",
    "page.camera_close": "Close camera",
    "page.camera_unavailable": (
        "The camera cannot be used: open the page over https or localhost and allow camera "
        "access."
    ),
    "page.step_reason": "2. Reason for the request",
    "page.mode_existing": "Check the old photo / card",
    "page.mode_new": "Check a new photo",
    "page.birth_year": "2. Holder's year of birth",
    "page.birth_year_hint": (
        "KTP-el photo background: red for an odd year of birth, blue for an even one."
    ),
    "page.waiting": "No photo yet",
    "page.waiting_hint": "Choose, drop or take a photo of the KTP-el to check it.",
    "page.checking": "Checking...",
    "page.checked_in": "Checked in",
    "page.reasons": "Reasons",
    "page.measures": "Key measures",
    "page.measure": "Measure",
    "page.value": "Value",
    "page.annotated": "Photo with marks",
    "page.annotated_caption": "What the marks on the photo mean:",
    "page.print": "Print decision slip",
    "page.clear": "Clear",
    "page.api_key": "API key",
    "page.api_key_hint": "This service needs an API key. Ask the system administrator.",
    "page.api_key_save": "Use key",
    "page.api_key_wrong": "The API key is wrong or missing.",
    "page.busy": "The service is busy checking other photos. Try again in a moment.",
    "page.upload_stalled": "Sending the photo stalled or was too slow. Try sending it again.",
    "page.file_too_large": "The file is too large to upload. Limit:",
    "page.network_error": (
        "The service cannot be reached. Check that photocheck serve is still running."
    ),
    "page.privacy": (
        "Photos are checked by this service only: nothing is sent to the internet and photos "
        "are not stored."
    ),
    "page.slip_title": "KTP-el Photo Check: Decision Slip",
    "page.slip_date": "Date and time",
    "page.slip_decision": "Decision",
    "page.slip_policy": "Policy",
    "page.slip_software": "Software",
    "page.slip_photo": "Photo checked",
    "page.slip_note": (
        "This automatic check assists the officer; the officer makes the final decision."
    ),
    "page.slip_officer": "Officer",
    "page.slip_applicant": "Applicant",
    "page.slip_name": "Applicant's name",
    "page.slip_nik": "NIK or registration number",
    "page.slip_fields_hint": (
        "Typed here only to be printed on the slip: not sent to the service and not stored."
    ),
    "page.slip_sha256": "Photo file fingerprint (SHA-256)",
    "page.slip_timezone": "WIB",
    "page.confirm_portrait": "I have made sure this image is the applicant's KTP-el photo.",
    "page.confirm_needed": (
        "No face was detected. First make sure this image is the applicant's KTP-el photo and "
        "tick the confirmation before printing a slip."
    ),
    "page.no_slip": (
        "This image could not be checked, so there is no slip. Fix the file and try again."
    ),
    "page.review_hint": (
        "The photo is close to a limit: look at the card as suggested, then the officer "
        "decides."
    ),
    "page.error_code": "Code for the system administrator",
}

MESSAGES: dict[str, dict[str, str]] = {Language.ID.value: ID, Language.EN.value: EN}


def check_language(lang: str | Language) -> str:
    """The language code for ``lang``; ValueError naming the supported ones otherwise."""
    code = lang.value if isinstance(lang, Language) else str(lang).strip().lower()
    if code not in MESSAGES:
        raise ValueError(f"unsupported language {lang!r}; use one of: {', '.join(LANGUAGES)}")
    return code


def text(key: str, lang: str | Language = DEFAULT_LANGUAGE) -> str:
    """The message ``key`` in ``lang``. KeyError for an unknown key, ValueError for a language."""
    return MESSAGES[check_language(lang)][key]


def _value(code: str | Enum) -> str:
    return code.value if isinstance(code, Enum) else str(code)


def decision_label(decision: Decision | str, lang: str | Language = DEFAULT_LANGUAGE) -> str:
    return text(f"decision.{Decision(_value(decision)).value}", lang)


def reason_text(reason: Reason | str, lang: str | Language = DEFAULT_LANGUAGE) -> str:
    return text(f"reason.{Reason(_value(reason)).value}", lang)


def error_text(code: ErrorCode | str, lang: str | Language = DEFAULT_LANGUAGE) -> str:
    return text(f"error.{ErrorCode(_value(code)).value}", lang)


def request_label(reason: RequestReason | str, lang: str | Language = DEFAULT_LANGUAGE) -> str:
    return text(f"request.{RequestReason(_value(reason)).value}", lang)


def measure_label(name: str, lang: str | Language = DEFAULT_LANGUAGE) -> str:
    """Label of a measure; the raw name when it has none (a measure added later)."""
    return MESSAGES[check_language(lang)].get(f"measure.{name}", name)


def reason_sentence(reason: Reason | str, decision: Decision | str,
                    lang: str | Language = DEFAULT_LANGUAGE) -> str:
    """The sentence for ``reason`` under ``decision``: for ``review`` the guidance (which limit
    is close, what to look at) when the reason has one, else the plain reason text."""
    code = Reason(_value(reason)).value
    if Decision(_value(decision)) is Decision.REVIEW:
        guidance = MESSAGES[check_language(lang)].get(f"review.{code}")
        if guidance is not None:
            return guidance
    return text(f"reason.{code}", lang)


def format_number(value: float, lang: str | Language = DEFAULT_LANGUAGE,
                  decimals: int = 2, grouping: bool = False) -> str:
    """``value`` for a reader: ``decimals`` places, the decimal mark of ``lang`` (``id``:
    ``3,80`` and ``1.234,5`` with ``grouping``; ``en``: ``3.80``, ``1,234.5``). Display only:
    JSON and CSV keep ``.``."""
    formatted = f"{value:{',' if grouping else ''}.{decimals}f}"
    if check_language(lang) == Language.ID.value:
        formatted = formatted.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return formatted

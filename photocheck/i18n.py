"""User-facing messages in Bahasa Indonesia (``id``, the default) and English (``en``).

Every message lives in one of two dicts, :data:`ID` and :data:`EN`, with identical keys:

* ``decision.<Decision>``: the verdict label;
* ``reason.<Reason>``: one plain-language sentence per reason code;
* ``error.<ErrorCode>``: one sentence per error code;
* ``request.<RequestReason>``: what the citizen asked for;
* ``measure.<name>``: a short label for each measure in :data:`photocheck.measures.MEASURES`;
* ``ui.<name>``: the few words the CLI and annotations put around them.
* ``page.<name>``: the counter page's own words (:mod:`photocheck.service`).

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
    "reason.no_face": "Tidak ada wajah yang terdeteksi pada foto.",
    "reason.face_occluded": (
        "Sebagian wajah tertutup, rusak, atau tersilaukan cahaya sehingga tidak terlihat jelas."
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
    "measure.laplacian_variance": "Varians Laplacian",
    "measure.edge_blur_px": "Keburaman tepi",
    "measure.edge_blur_max_px": "Keburaman tepi terburuk (gerak)",
    "measure.detection_confidence": "Keyakinan deteksi wajah",
    "measure.face_count": "Jumlah wajah",
    "measure.face_width_px": "Lebar wajah",
    "measure.face_outside_fraction": "Bagian wajah di luar foto",
    "measure.face_brightness": "Kecerahan wajah",
    "measure.face_clipped_fraction": "Bagian wajah terlalu terang",
    "measure.face_contrast": "Kontras wajah",
    "measure.eyes_occluded": "Kedua mata tertutup",
    "measure.features_occluded": "Fitur wajah tertutup",
    "measure.face_occluded": "Wajah tertutup",
    "measure.right_eye_occluded": "Mata kanan tertutup",
    "measure.left_eye_occluded": "Mata kiri tertutup",
    "measure.nose_occluded": "Hidung tertutup",
    "measure.mouth_occluded": "Mulut tertutup",
    "measure.head_yaw_deg": "Kepala menoleh (yaw)",
    "measure.head_pitch_deg": "Kepala mengangguk (pitch)",
    "measure.head_roll_deg": "Kepala miring (roll)",
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
    "ui.annotation": "anotasi",
    "ui.background": "Latar",
    "ui.expected": "seharusnya",
    "ui.colour.red": "merah",
    "ui.colour.blue": "biru",
    "ui.colour.other": "lain",
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
    "page.annotated": "Foto beranotasi",
    "page.annotated_caption": (
        "Kotak: wajah yang diperiksa. Titik: penanda wajah. Magenta: bagian wajah yang "
        "tertutup, rusak, atau silau."
    ),
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
    "reason.no_face": "No face was detected in the photo.",
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
    "measure.laplacian_variance": "Laplacian variance",
    "measure.edge_blur_px": "Edge blur",
    "measure.edge_blur_max_px": "Worst-orientation edge blur (motion)",
    "measure.detection_confidence": "Face detection confidence",
    "measure.face_count": "Face count",
    "measure.face_width_px": "Face width",
    "measure.face_outside_fraction": "Face outside the frame",
    "measure.face_brightness": "Face brightness",
    "measure.face_clipped_fraction": "Face washed out",
    "measure.face_contrast": "Face contrast",
    "measure.eyes_occluded": "Both eyes covered",
    "measure.features_occluded": "Facial features covered",
    "measure.face_occluded": "Face covered",
    "measure.right_eye_occluded": "Right eye covered",
    "measure.left_eye_occluded": "Left eye covered",
    "measure.nose_occluded": "Nose covered",
    "measure.mouth_occluded": "Mouth covered",
    "measure.head_yaw_deg": "Head turn (yaw)",
    "measure.head_pitch_deg": "Head nod (pitch)",
    "measure.head_roll_deg": "Head tilt (roll)",
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
    "ui.annotation": "annotation",
    "ui.background": "Background",
    "ui.expected": "expected",
    "ui.colour.red": "red",
    "ui.colour.blue": "blue",
    "ui.colour.other": "other",
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
    "page.annotated": "Annotated photo",
    "page.annotated_caption": (
        "Box: the face checked. Dots: face landmarks. Magenta: parts of the face that are "
        "covered, damaged or glared."
    ),
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

/*
 * mediasoup's meson.build link_whole()s this subproject's static library into
 * libmediasoup-worker. The real code comes from the Debian shared library
 * through the subproject's dependency object, so this library is empty.
 * (ISO C wants at least one declaration per translation unit.)
 */
typedef int kiloface_empty_translation_unit;

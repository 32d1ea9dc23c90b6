// Stand-in for martinus/unordered_dense 4.x (ankerl/unordered_dense.h), which
// Debian does not package. The mediasoup worker uses only
// ankerl::unordered_dense::map, ::set and ::hash as drop-in hash containers, so
// they are mapped onto std::unordered_map / std::unordered_set here.
//
// Differences from the real library that the worker does not depend on:
// - iteration order (the real one iterates in insertion order until erase);
// - performance: node-based buckets instead of a dense vector;
// - value_type is std::pair<const Key, T> instead of std::pair<Key, T>;
// - no segmented/pmr variants, no values()/extract() of the backing vector.

#ifndef KILOFACE_ANKERL_UNORDERED_DENSE_H
#define KILOFACE_ANKERL_UNORDERED_DENSE_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace ankerl::unordered_dense
{
	namespace detail
	{
		// 64-bit finaliser of MurmurHash3. libstdc++'s std::hash of integers
		// and pointers is the identity; the worker feeds these hashes into a
		// boost-style hash_combine (TransportTuple, PortManager) that expects
		// well-mixed inputs, as the real ankerl hash provides.
		constexpr std::uint64_t Mix(std::uint64_t x) noexcept
		{
			x ^= x >> 33U;
			x *= UINT64_C(0xff51afd7ed558ccd);
			x ^= x >> 33U;
			x *= UINT64_C(0xc4ceb9fe1a85ec53);
			x ^= x >> 33U;

			return x;
		}
	} // namespace detail

	// Anything else (std::string, std::string_view, user types with a
	// std::hash specialisation) hashes like the standard library does.
	template<typename T, typename Enable = void>
	struct hash : std::hash<T>
	{
	};

	template<typename T>
	struct hash<T, std::enable_if_t<std::is_integral_v<T> || std::is_enum_v<T>>>
	{
		std::size_t operator()(T value) const noexcept
		{
			if constexpr (std::is_enum_v<T>)
			{
				using U = std::underlying_type_t<T>;

				return static_cast<std::size_t>(
				  detail::Mix(static_cast<std::uint64_t>(static_cast<U>(value))));
			}
			else
			{
				return static_cast<std::size_t>(detail::Mix(static_cast<std::uint64_t>(value)));
			}
		}
	};

	template<typename T>
	struct hash<T*>
	{
		std::size_t operator()(T* value) const noexcept
		{
			return static_cast<std::size_t>(
			  detail::Mix(static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(value))));
		}
	};

	template<
	  class Key,
	  class T,
	  class Hash      = hash<Key>,
	  class KeyEqual  = std::equal_to<Key>,
	  class Allocator = std::allocator<std::pair<const Key, T>>>
	using map = std::unordered_map<Key, T, Hash, KeyEqual, Allocator>;

	template<
	  class Key,
	  class Hash      = hash<Key>,
	  class KeyEqual  = std::equal_to<Key>,
	  class Allocator = std::allocator<Key>>
	using set = std::unordered_set<Key, Hash, KeyEqual, Allocator>;
} // namespace ankerl::unordered_dense

#endif

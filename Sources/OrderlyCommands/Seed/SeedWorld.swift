import Foundation
import OrderlyCore

/// A deterministic random source (SplitMix64): the same `--seed` gives the same world and the same
/// orders, customers and decisions.
struct SeedRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    mutating func next() -> UInt64 {
        state = state &+ 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    mutating func chance(_ probability: Double) -> Bool { unit() < probability }

    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    /// An index drawn with the given cumulative weights (ascending, the last is the total).
    mutating func pick(cumulative: [Double]) -> Int {
        let target = unit() * (cumulative.last ?? 0)
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] > target { high = middle } else { low = middle + 1 }
        }
        return low
    }
}

/// The world `orderly seed` builds: warehouses and customers on a real map, a catalogue with a long
/// tail, the channels and their rules, carriers and their rates.
enum SeedWorld {
    struct Site {
        var code: String
        var name: String
        var city: String
        var country: String
        var latitude: Double
        var longitude: Double
    }

    static let warehouses: [Site] = [
        Site(
            code: "HAM-1",
            name: "Hamburg Billbrook",
            city: "Hamburg",
            country: "DE",
            latitude: 53.54,
            longitude: 10.08
        ),
        Site(
            code: "MUC-1",
            name: "München Aschheim",
            city: "Aschheim",
            country: "DE",
            latitude: 48.17,
            longitude: 11.72
        ),
        Site(code: "PAR-1", name: "Paris Gonesse", city: "Gonesse", country: "FR", latitude: 48.99, longitude: 2.45),
        Site(
            code: "WAW-1",
            name: "Warszawa Okęcie",
            city: "Warszawa",
            country: "PL",
            latitude: 52.17,
            longitude: 20.97
        ),
        Site(code: "MAD-1", name: "Madrid Getafe", city: "Getafe", country: "ES", latitude: 40.31, longitude: -3.73),
    ]

    struct City {
        var name: String
        var country: String
        var latitude: Double
        var longitude: Double
        var postalPrefix: String
        /// Relative share of customers.
        var weight: Double
    }

    static let cities: [City] = [
        City(name: "Berlin", country: "DE", latitude: 52.52, longitude: 13.40, postalPrefix: "10", weight: 9),
        City(name: "Hamburg", country: "DE", latitude: 53.55, longitude: 9.99, postalPrefix: "20", weight: 5),
        City(name: "München", country: "DE", latitude: 48.14, longitude: 11.58, postalPrefix: "80", weight: 5),
        City(name: "Köln", country: "DE", latitude: 50.94, longitude: 6.96, postalPrefix: "50", weight: 3.5),
        City(name: "Frankfurt am Main", country: "DE", latitude: 50.11, longitude: 8.68, postalPrefix: "60", weight: 3),
        City(name: "Stuttgart", country: "DE", latitude: 48.78, longitude: 9.18, postalPrefix: "70", weight: 2.5),
        City(name: "Düsseldorf", country: "DE", latitude: 51.23, longitude: 6.78, postalPrefix: "40", weight: 2.2),
        City(name: "Leipzig", country: "DE", latitude: 51.34, longitude: 12.37, postalPrefix: "04", weight: 2),
        City(name: "Dresden", country: "DE", latitude: 51.05, longitude: 13.74, postalPrefix: "01", weight: 1.8),
        City(name: "Hannover", country: "DE", latitude: 52.37, longitude: 9.73, postalPrefix: "30", weight: 1.8),
        City(name: "Nürnberg", country: "DE", latitude: 49.45, longitude: 11.08, postalPrefix: "90", weight: 1.7),
        City(name: "Bremen", country: "DE", latitude: 53.08, longitude: 8.80, postalPrefix: "28", weight: 1.5),
        City(name: "Paris", country: "FR", latitude: 48.86, longitude: 2.35, postalPrefix: "75", weight: 7),
        City(name: "Lyon", country: "FR", latitude: 45.76, longitude: 4.84, postalPrefix: "69", weight: 2.5),
        City(name: "Marseille", country: "FR", latitude: 43.30, longitude: 5.37, postalPrefix: "13", weight: 2.3),
        City(name: "Toulouse", country: "FR", latitude: 43.60, longitude: 1.44, postalPrefix: "31", weight: 1.8),
        City(name: "Lille", country: "FR", latitude: 50.63, longitude: 3.06, postalPrefix: "59", weight: 1.5),
        City(name: "Bordeaux", country: "FR", latitude: 44.84, longitude: -0.58, postalPrefix: "33", weight: 1.4),
        City(name: "Warszawa", country: "PL", latitude: 52.23, longitude: 21.01, postalPrefix: "00", weight: 4),
        City(name: "Kraków", country: "PL", latitude: 50.06, longitude: 19.94, postalPrefix: "30", weight: 2),
        City(name: "Wrocław", country: "PL", latitude: 51.11, longitude: 17.04, postalPrefix: "50", weight: 1.6),
        City(name: "Gdańsk", country: "PL", latitude: 54.35, longitude: 18.65, postalPrefix: "80", weight: 1.3),
        City(name: "Poznań", country: "PL", latitude: 52.41, longitude: 16.93, postalPrefix: "60", weight: 1.3),
        City(name: "Madrid", country: "ES", latitude: 40.42, longitude: -3.70, postalPrefix: "28", weight: 4.5),
        City(name: "Barcelona", country: "ES", latitude: 41.39, longitude: 2.17, postalPrefix: "08", weight: 4),
        City(name: "Valencia", country: "ES", latitude: 39.47, longitude: -0.38, postalPrefix: "46", weight: 1.8),
        City(name: "Sevilla", country: "ES", latitude: 37.39, longitude: -5.98, postalPrefix: "41", weight: 1.5),
        City(name: "Wien", country: "AT", latitude: 48.21, longitude: 16.37, postalPrefix: "10", weight: 2.5),
        City(name: "Amsterdam", country: "NL", latitude: 52.37, longitude: 4.90, postalPrefix: "10", weight: 2.5),
        City(name: "Rotterdam", country: "NL", latitude: 51.92, longitude: 4.48, postalPrefix: "30", weight: 1.5),
        City(name: "Bruxelles", country: "BE", latitude: 50.85, longitude: 4.35, postalPrefix: "10", weight: 1.8),
    ]

    static let countries: [String] = Array(Set(cities.map(\.country))).sorted()

    /// The Gregorian calendar in UTC, the simulation's clock face.
    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0) ?? calendar.timeZone  // 0 is always a valid offset
        return calendar
    }()

    struct Category {
        var prefix: String
        var name: String
        var grams: ClosedRange<Int>
        var priceMinor: ClosedRange<Int>
        var serialTracked: Bool
        /// Share of delivered orders with such a unit that come back, and why.
        var returnRate: Double
        var reasons: [(ReturnReason, Double)]
    }

    static let categories: [Category] = [
        Category(
            prefix: "MUG",
            name: "Mug",
            grams: 280...450,
            priceMinor: 899...1899,
            serialTracked: false,
            returnRate: 0.04,
            reasons: [(.damaged, 4), (.noLongerNeeded, 3), (.notAsDescribed, 2), (.other, 1)]
        ),
        Category(
            prefix: "TEE",
            name: "T-shirt",
            grams: 150...260,
            priceMinor: 1499...3499,
            serialTracked: false,
            returnRate: 0.16,
            reasons: [(.sizeFit, 7), (.notAsDescribed, 2), (.noLongerNeeded, 2), (.other, 1)]
        ),
        Category(
            prefix: "SHOE",
            name: "Sneaker",
            grams: 700...1200,
            priceMinor: 5999...12999,
            serialTracked: false,
            returnRate: 0.22,
            reasons: [(.sizeFit, 8), (.notAsDescribed, 2), (.defective, 1), (.noLongerNeeded, 2)]
        ),
        Category(
            prefix: "LAMP",
            name: "Desk lamp",
            grams: 1200...2600,
            priceMinor: 2999...8999,
            serialTracked: false,
            returnRate: 0.06,
            reasons: [(.defective, 4), (.damaged, 3), (.notAsDescribed, 2), (.other, 1)]
        ),
        Category(
            prefix: "HDPH",
            name: "Headphones",
            grams: 220...420,
            priceMinor: 4999...29999,
            serialTracked: true,
            returnRate: 0.08,
            reasons: [(.defective, 5), (.notAsDescribed, 3), (.noLongerNeeded, 2)]
        ),
        Category(
            prefix: "PHON",
            name: "Phone",
            grams: 160...240,
            priceMinor: 19999...89999,
            serialTracked: true,
            returnRate: 0.05,
            reasons: [(.defective, 4), (.noLongerNeeded, 3), (.wrongItem, 1)]
        ),
        Category(
            prefix: "BOOK",
            name: "Book",
            grams: 250...1100,
            priceMinor: 899...3999,
            serialTracked: false,
            returnRate: 0.02,
            reasons: [(.damaged, 3), (.wrongItem, 1), (.noLongerNeeded, 2)]
        ),
        Category(
            prefix: "KETL",
            name: "Kettle",
            grams: 900...1500,
            priceMinor: 1999...6999,
            serialTracked: false,
            returnRate: 0.07,
            reasons: [(.defective, 6), (.damaged, 3), (.other, 1)]
        ),
        Category(
            prefix: "RUG",
            name: "Rug",
            grams: 2500...6000,
            priceMinor: 4999...19999,
            serialTracked: false,
            returnRate: 0.09,
            reasons: [(.notAsDescribed, 6), (.sizeFit, 2), (.noLongerNeeded, 2)]
        ),
        Category(
            prefix: "PACK",
            name: "Backpack",
            grams: 600...1100,
            priceMinor: 3999...11999,
            serialTracked: false,
            returnRate: 0.05,
            reasons: [(.noLongerNeeded, 3), (.defective, 2), (.notAsDescribed, 2)]
        ),
    ]

    struct Product {
        var code: String
        var name: String
        var category: Int
        var grams: Int
        var priceMinor: Int64
        var serialTracked: Bool
    }

    /// `count` products across the categories, the first in each category most popular.
    static func products(count: Int, random: inout SeedRandom) -> [Product] {
        let colours = ["Blue", "Red", "Green", "Black", "White", "Grey", "Sand", "Ochre", "Teal", "Plum"]
        return (0..<count).map { index in
            let categoryIndex = index % categories.count
            let category = categories[categoryIndex]
            let number = index / categories.count + 1
            return Product(
                code: String(format: "%@-%03d", category.prefix, number),
                name: "\(colours[number % colours.count]) \(category.name.lowercased()) \(number)",
                category: categoryIndex,
                grams: random.int(category.grams),
                priceMinor: Int64(random.int(category.priceMinor) / 100 * 100 + 99),
                serialTracked: category.serialTracked
            )
        }
    }

    /// A channel: its name, kind, share of orders and rules.
    struct Channel {
        var name: String
        var kind: ChannelKind
        var share: Double
        var routing: String
        var onShortage: ShortagePolicy
        /// Units per line (b2b orders buy in cases).
        var quantities: ClosedRange<Int>
        var returnFactor: Double
    }

    static let channels: [Channel] = [
        Channel(
            name: "web",
            kind: .web,
            share: 48,
            routing: "nearest>split",
            onShortage: .backorder,
            quantities: 1...3,
            returnFactor: 1
        ),
        Channel(
            name: "amazon",
            kind: .marketplace,
            share: 17,
            routing: "cheapest>split",
            onShortage: .reject,
            quantities: 1...2,
            returnFactor: 0.9
        ),
        Channel(
            name: "ebay",
            kind: .marketplace,
            share: 7,
            routing: "cheapest>split",
            onShortage: .backorder,
            quantities: 1...2,
            returnFactor: 0.7
        ),
        Channel(
            name: "zalando",
            kind: .marketplace,
            share: 6,
            routing: "nearest>split",
            onShortage: .reject,
            quantities: 1...2,
            returnFactor: 1.6
        ),
        Channel(
            name: "pos",
            kind: .pos,
            share: 10,
            routing: "priority>split",
            onShortage: .reject,
            quantities: 1...2,
            returnFactor: 0.3
        ),
        Channel(
            name: "phone",
            kind: .phone,
            share: 5,
            routing: "nearest>split",
            onShortage: .backorder,
            quantities: 1...3,
            returnFactor: 0.6
        ),
        Channel(
            name: "b2b",
            kind: .b2b,
            share: 7,
            routing: "split",
            onShortage: .backorder,
            quantities: 5...40,
            returnFactor: 0.2
        ),
    ]

    /// Carriers and services: (carrier, service, base price, price per kg, extra days abroad).
    static let services: [(carrier: String, service: String, base: Int64, perKilogram: Int64, days: Int64)] = [
        ("DHL", "parcel", 449, 55, 1), ("DHL", "express", 1190, 90, 0), ("DPD", "classic", 419, 60, 1),
        ("GLS", "business", 399, 70, 2), ("UPS", "saver", 990, 80, 0),
    ]
}

/// When orders come: a year with a summer lull, a Black-Friday week, a December rush, weekends and
/// evenings; `counts(total:)` spreads exactly `total` orders over the hours.
struct DemandCurve {
    let start: Date
    let hours: Int

    /// The relative demand of the hour starting at `instant` (UTC).
    static func weight(_ instant: Date) -> Double {
        let calendar = SeedWorld.utc
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .weekday], from: instant)
        let dayOfYear = Double(calendar.ordinality(of: .day, in: .year, for: instant) ?? 1)
        var weight = 1 + 0.18 * cos(2 * .pi * (dayOfYear - 15) / 365)  // high in winter, low in summer
        // Black Friday: the fourth Friday of November; the week around it and Cyber Monday peak.
        if let year = parts.year, let blackFriday = Self.blackFriday(year: year, calendar: calendar) {
            let days = instant.timeIntervalSince(blackFriday) / 86_400
            if days >= 0 && days < 1 {
                weight *= 4.5
            } else if days >= -4 && days < 4.5 {
                weight *= 2.2
            }
        }
        if parts.month == 12, let day = parts.day {
            weight *= day <= 20 ? 1.5 : (day <= 24 ? 1.1 : 0.7)
        }
        // Weekdays: Monday 1.1 down to Saturday 0.85, Sunday evening shopping 1.0.
        let weekdayFactor: [Double] = [1.0, 1.1, 1.05, 1.0, 0.98, 0.92, 0.85]  // Sunday first
        weight *= weekdayFactor[(parts.weekday ?? 1) - 1]
        // Hours (UTC, Europe an hour or two ahead): quiet at night, busy at lunch and in the evening.
        let hourly: [Double] = [
            0.35, 0.2, 0.12, 0.08, 0.08, 0.15, 0.35, 0.6, 0.85, 1.0, 1.05, 1.15, 1.2, 1.1, 1.0, 1.0, 1.05, 1.2, 1.45,
            1.6,
            1.55, 1.3, 0.95, 0.6,
        ]
        return weight * hourly[parts.hour ?? 12]
    }

    static func blackFriday(year: Int, calendar: Calendar) -> Date? {
        var parts = DateComponents(year: year, month: 11, weekday: 6, weekdayOrdinal: 4)
        parts.timeZone = calendar.timeZone
        return calendar.date(from: parts)
    }

    /// Orders per hour, summing to exactly `total` (each hour's share rounded by carrying the remainder).
    func counts(total: Int) -> [Int] {
        let weights = (0..<hours).map { Self.weight(start.addingTimeInterval(Double($0) * 3600)) }
        let sum = weights.reduce(0, +)
        var counts = [Int]()
        counts.reserveCapacity(hours)
        var carried = 0.0
        var given = 0
        for weight in weights {
            carried += Double(total) * weight / sum
            let now = Int(carried.rounded(.down)) - given
            counts.append(now)
            given += now
        }
        counts[counts.count - 1] += total - given
        return counts
    }
}
